import { z } from 'zod';
import { AccessRequestInput } from './access';
import { Tags } from './discovery';
import { issuesFromZod } from './errors';
import { UserInput } from './identities';

const rules = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : issuesFromZod(parsed.error);
};

describe('zod issues in words for people', () => {
  it('says "is required" and "must be a <type>", never zod\'s own phrasing', () => {
    const issues = rules(z.object({ name: z.string(), count: z.number(), on: z.boolean(), list: z.array(z.string()) }), { count: 'x', on: 1, list: {} });
    expect(issues).toEqual([
      { field: 'name', rule: 'is required' },
      { field: 'count', rule: 'must be a number' },
      { field: 'on', rule: 'must be true or false' },
      { field: 'list', rule: 'must be an array' },
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/Invalid input|expected/);
  });

  it('says a body that is not an object "must be a JSON object"', () => {
    for (const body of [42, 'text', [1], null]) expect(rules(AccessRequestInput, body)).toEqual([{ field: '(body)', rule: 'must be a JSON object' }]);
  });

  it('states sizes, options and formats', () => {
    const schema = z
      .object({ a: z.string().min(3), b: z.array(z.number()).max(1), c: z.enum(['x', 'y']), d: z.string().uuid(), e: z.number().int(), f: z.literal(true) })
      .strict();
    expect(rules(schema, { a: 'x', b: [1, 2], c: 'z', d: 'no', e: 1.5, f: false, g: 1 })).toEqual([
      { field: 'a', rule: 'must be at least 3 characters' },
      { field: 'b', rule: 'must list at most 1 item' },
      { field: 'c', rule: 'must be one of: x, y' },
      { field: 'd', rule: 'must be a UUID' },
      { field: 'e', rule: 'must be a whole number' },
      { field: 'f', rule: 'must be true' },
      { field: 'g', rule: 'is not a known field' },
    ]);
  });

  it('keeps the messages schemas state themselves', () => {
    expect(rules(AccessRequestInput, { items: [], durationMinutes: 0 })).toEqual([
      { field: 'items', rule: 'must list at least one item' },
      { field: 'durationMinutes', rule: 'must be at least 1' },
    ]);
  });

  it('names a bad record key and the rule keys follow', () => {
    expect(rules(UserInput, { email: 'a@example.com', name: 'A', attributes: { '9 lives': 'x' } })).toEqual([
      { field: 'attributes.9 lives', rule: 'is not an allowed key: keys must be 1-64 characters of letters, digits and _, starting with a letter' },
    ]);
    expect(rules(Tags, { 'a b': 'x' })).toEqual([{ field: 'a b', rule: 'is not an allowed key: keys are 1-128 letters, digits, _ . : / -' }]);
  });
});
