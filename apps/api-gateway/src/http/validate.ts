import { z } from 'zod';
import { AppException, issuesFromZod } from '@latchkey/contracts';

/** Parses route input with a contract schema; a failure is a 400 naming every field and rule. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix: string[] = []): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error, prefix));
  return parsed.data;
}

export const IdParam = z.string().uuid('must be a UUID');
