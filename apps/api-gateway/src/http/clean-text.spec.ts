import { z } from 'zod';
import { AccessRequestQuery, AuditQuery, Contracts, Page, RequestableQuery, ResourceQuery } from '@latchkey/contracts';
import { ROUTES } from './openapi';

/** Every string a schema accepts somewhere inside it (object fields, array items, record keys and values, unions, wrappers). */
function stringLeaves(schema: z.ZodType, path: string, out: Array<[string, z.ZodType]> = [], seen = new Set<z.ZodType>()): Array<[string, z.ZodType]> {
  if (seen.has(schema)) return out;
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const walk = (child: unknown, at: string) => stringLeaves(child as z.ZodType, at, out, seen);
  switch (def.type) {
    case 'string':
      out.push([path, schema]);
      break;
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) walk(child, `${path}.${key}`);
      break;
    case 'array':
      walk(def.element, `${path}[]`);
      break;
    case 'record':
      walk(def.keyType, `${path}{key}`);
      walk(def.valueType, `${path}{value}`);
      break;
    case 'union':
      (def.options as z.ZodType[]).forEach((o, i) => walk(o, `${path}|${i}`));
      break;
    case 'pipe':
      walk(def.in, path);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      walk(def.innerType, path);
      break;
  }
  return out;
}

const INPUTS: Array<[string, z.ZodType]> = [
  ...ROUTES.filter((r) => r.body).map((r): [string, z.ZodType] => [`${r.method.toUpperCase()} ${r.path}`, r.body!]),
  ['resources query', ResourceQuery],
  ['access requests query', AccessRequestQuery],
  ['audit query', AuditQuery],
  ['requestable query', RequestableQuery],
  ['users query', Contracts.accessUsersList.request],
  ['page', z.object(Page)],
];

/**
 * The class behind "no 500 for bad input": a string field that lets NUL or a lone surrogate
 * through reaches PostgreSQL. Every string accepted anywhere in a route's body or query must
 * refuse both, whatever else it checks, so a new field cannot forget the contracts' rule.
 */
describe('every text field at the edge refuses NUL and lone surrogates', () => {
  for (const [name, schema] of INPUTS) {
    it(name, () => {
      const leaves = stringLeaves(schema, '');
      const lax = leaves.filter(([, leaf]) => ['a\u0000', '\ud800', 'x\udc00'].some((v) => leaf.safeParse(v).success)).map(([at]) => at);
      expect(lax).toEqual([]);
    });
  }

  it('walks real schemas (sanity)', () => {
    expect(stringLeaves(ResourceQuery, '').map(([at]) => at)).toEqual(expect.arrayContaining(['.q', '.tag', '.pageToken']));
  });
});
