import { issuesFromZod } from '@latchkey/contracts';
import type { ValidationIssue } from '@latchkey/contracts';
import type { z } from 'zod';

/**
 * Field errors by dotted path (`config.port`, `integrationOwners.0.values`): the same paths the
 * API names in a 400's `details.issues`, so the browser's own checks and the server's answer land
 * on the same fields with the same words.
 */
export type FieldErrors = Readonly<Record<string, string>>;

/** The first rule broken by each field. */
export function errorsFromIssues(issues: readonly ValidationIssue[]): FieldErrors {
  const errors: Record<string, string> = {};
  for (const issue of issues) errors[issue.field] ??= issue.rule;
  return errors;
}

/** Checks a body with a contracts schema; `more` adds cross-field rules the schema cannot hold. */
export function schemaErrors(schema: z.ZodType, body: unknown, more: readonly ValidationIssue[] = []): FieldErrors {
  const parsed = schema.safeParse(body);
  return errorsFromIssues([...(parsed.success ? [] : issuesFromZod(parsed.error)), ...more]);
}

/** The error of a field, or of the first of its parts (`values` shows `values.2`'s rule). */
export function errorAt(errors: FieldErrors, path: string): string | undefined {
  if (errors[path] !== undefined) return errors[path];
  const inner = Object.keys(errors).find((key) => key.startsWith(`${path}.`));
  return inner === undefined ? undefined : errors[inner];
}

/** True when a path is one of the prefixes or lies under one. */
export function isUnder(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}.`));
}

/** The errors that lie under none of the given prefixes (shown above a form rather than beside a field). */
export function errorsOutside(errors: FieldErrors, prefixes: readonly string[]): Array<[string, string]> {
  return Object.entries(errors).filter(([field]) => !isUnder(field, prefixes));
}

export function getIn(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A copy of `value` with `path` set; arrays stay arrays. */
export function setIn<T>(value: T, path: string, next: unknown): T {
  const [key, ...rest] = path.split('.');
  const container = (value ?? {}) as Record<string, unknown> | unknown[];
  const child = rest.length === 0 ? next : setIn((container as Record<string, unknown>)[key], rest.join('.'), next);
  if (Array.isArray(container)) {
    const copy = [...container];
    copy[Number(key)] = child;
    return copy as T;
  }
  return { ...container, [key]: child } as T;
}

/** A DOM id for a field path. */
export const fieldId = (path: string) => `field-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** "a, b ,c" -> ['a', 'b', 'c']: lists typed into one text box. */
export const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

/** A number typed into a text box, or undefined when empty; not-a-number stays a string for the schema to refuse. */
export function numberOrText(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : trimmed;
}

/** A date box (YYYY-MM-DD, the person's day) as the API's ISO bound: the day's start, or for `to` the next day's start. */
export function dayBound(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  if (end) date.setDate(date.getDate() + 1);
  return date.toISOString();
}
