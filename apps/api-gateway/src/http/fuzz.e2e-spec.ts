import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { z } from 'zod';
import { CLEAN_TEXT_RULE } from '@latchkey/contracts';
import { createUser, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';
import { ROUTES } from './openapi';

jest.setTimeout(1_200_000);

/** Fixed seed and runs: the same requests on every run, bounded for CI. */
const SEED = 20261201;
const RUNS_PER_ROUTE = 50;
const CONNECTOR_USER = 'latchkey_fuzz';
const CONNECTOR_PASSWORD = `fuzz-${randomBytes(8).toString('hex')}`;

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
};

/** Characters PostgreSQL or UTF-8 cannot take: NUL and lone UTF-16 surrogates. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.oneof(fc.constant('\u0000'), loneSurrogate), fc.string({ maxLength: 10 })).map(([a, b, c]) => a + b + c),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    'a\u0000b',
    "'; DROP TABLE x; --",
    '%00',
    '../../etc/passwd',
    '\u202e',
    'x'.repeat(5000),
    '{}',
    'null',
  ),
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00.000Z',
    '-000001-01-01T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '1969-12-31T23:59:59Z',
  ),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, -1, 0, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 31, true, false, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
);

/**
 * Values for a JSON Schema (the contracts' zod schemas, as the OpenAPI document states them):
 * mostly well-formed, so that requests get past the first rule and reach deeper ones, with hostile
 * values mixed in at every level.
 */
function arbitraryFor(schema: JsonSchema, ids: string[], depth = 0): fc.Arbitrary<unknown> {
  const core = coreFor(schema, ids, depth);
  return depth > 4 ? core : fc.oneof({ weight: 5, arbitrary: core }, { weight: 1, arbitrary: hostileValue });
}

function coreFor(schema: JsonSchema, ids: string[], depth: number): fc.Arbitrary<unknown> {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((s) => arbitraryFor(s, ids, depth + 1)));
  if (schema.allOf?.length) return arbitraryFor(schema.allOf[0], ids, depth + 1);
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => coreFor({ ...schema, type }, ids, depth)));
  switch (types[0]) {
    case 'object': {
      const properties = schema.properties ?? {};
      const record = fc.record(
        Object.fromEntries(
          Object.entries(properties).map(([key, s]) => [
            key,
            key === 'hostname' ? fc.constantFrom('127.0.0.1', 'localhost', 'a\u0000b') : arbitraryFor(s, ids, depth + 1),
          ]),
        ),
        { requiredKeys: (schema.required ?? []).filter((k) => k in properties) },
      );
      if (typeof schema.additionalProperties === 'object') {
        const keys = schema.propertyNames ? fc.oneof(stringFor(schema.propertyNames, ids), hostileString) : hostileString;
        return fc
          .tuple(record, fc.dictionary(keys, arbitraryFor(schema.additionalProperties, ids, depth + 1), { maxKeys: 3 }))
          .map(([r, extra]) => ({ ...extra, ...r }));
      }
      return record;
    }
    case 'array':
      return fc.array(schema.items ? arbitraryFor(schema.items, ids, depth + 1) : hostileValue, { maxLength: 3 });
    case 'string':
      return stringFor(schema, ids);
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1_000_000, -1_000_000), max: Math.min(schema.maximum ?? 1_000_000, 1_000_000) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return hostileValue;
  }
}

function stringFor(schema: JsonSchema, ids: string[]): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.oneof(fc.constantFrom(...ids), fc.uuid());
    case 'date-time':
      return fc.oneof(
        fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        fc.integer({ min: -600, max: 600 }).map((minutes) => new Date(Date.now() + minutes * 60_000).toISOString()),
      );
    case 'email':
      return fc.emailAddress();
  }
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 10_000));
    } catch {
      // a pattern fast-check cannot generate from: plain strings below
    }
  }
  return fc.string({ maxLength: Math.min(schema.maxLength ?? 60, 60) });
}

/** A path segment as bytes on the wire: percent-encoded UTF-8, or raw invalid sequences. */
const pathSegment = (ids: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: hostileString.map(percentEncode) },
    { weight: 1, arbitrary: fc.constantFrom('%00', '%ED%A0%80', '%FF', '%', '..', '%2F', 'a'.repeat(3000)) },
  );

/** Percent-encodes UTF-8 bytes; a lone surrogate becomes its raw (invalid) three-byte form. */
function percentEncode(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    const bytes = code >= 0xd800 && code <= 0xdfff ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)] : [...Buffer.from(ch, 'utf8')];
    out += bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

describe('no input makes any route answer 5xx (property-based, every route of the OpenAPI route table)', () => {
  let pg: PgCluster;
  let t: TestStack;
  let userToken: string;
  const ids: string[] = [];
  /** An integration the fuzz may replace or delete (PUT/DELETE /integrations/{id}); `ids[0]` stays intact for the routes under it. */
  let spareIntegrationId: string;
  let healthUnavailable = 0;
  const statuses = new Map<number, number>();
  let requests = 0;

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query('CREATE TABLE public.items (id int PRIMARY KEY)', undefined, 'app');
    t = await startTestStack({ env: { LOG_LEVEL: 'info' } });
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'fuzz',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table', 'postgresql-database'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
        integrationOwners: [{ attribute: 'group', values: ['fuzzers'] }],
      },
    });
    expect(integration.status).toBe(201);
    const spare = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'spare',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-database'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(spare.status).toBe(201);
    spareIntegrationId = spare.body.id;
    const resource = await waitUntil(
      'the table discovered',
      async () => (await t.api('GET', `/api/v1/resources?integrationId=${integration.body.id}&type=postgresql-table`)).body.items?.[0],
    );
    const person = await createUser(t, { groups: ['fuzzers'] });
    userToken = person.token;
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'fuzz flow',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['fuzzers'] }] },
        targets: [{ integrationId: integration.body.id, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 60,
        settings: { justificationRequired: false, maxExtensions: 3 },
      },
    });
    expect(flow.status).toBe(201);
    const request = await t.api('POST', '/api/v1/access-requests', {
      token: userToken,
      body: { items: [{ resourceId: resource.id, permission: 'READ_ONLY' }], durationMinutes: 30 },
    });
    expect(request.status).toBe(201);
    const granted = await waitUntil('the request granted', async () => {
      const r = await t.api('GET', `/api/v1/access-requests/${request.body.requests[0].id}`);
      return r.body.status === 'GRANTED' && r.body;
    });
    ids.push(integration.body.id, resource.id, person.user.id, flow.body.id, granted.id, granted.grantId);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  /** One request on the wire; counts it, and fails on any 5xx or any error that is not an envelope. */
  async function send(method: string, path: string, query: string, generated: unknown, token: string): Promise<void> {
    // fetch sends no body with GET (the server would not read one either).
    const body = method === 'get' ? undefined : generated;
    const res = await fetch(`${t.url}${path}${query ? `?${query}` : ''}`, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    requests++;
    // /health takes no input: its 503 names services that do not answer in time (a loaded machine), not a bad request.
    if (path === '/health' && res.status === 503) {
      healthUnavailable++;
      return;
    }
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500)
      throw new Error(`${method.toUpperCase()} ${path}?${query} answered ${res.status}: ${text.slice(0, 500)} (body ${JSON.stringify(body)?.slice(0, 500)})`);
    // 431: Node's HTTP parser refuses a request line and headers above 16 KiB before any route runs.
    if (res.status >= 400 && res.status !== 431) {
      const envelope = JSON.parse(text) as { code?: unknown; message?: unknown; schemas?: unknown; detail?: unknown };
      // Under /scim/v2 errors are SCIM error bodies (RFC 7644 3.12).
      if (path.startsWith('/scim/')) {
        if (!Array.isArray(envelope.schemas) || typeof envelope.detail !== 'string')
          throw new Error(`${method} ${path} answered ${res.status} without a SCIM error body: ${text.slice(0, 300)}`);
      } else if (typeof envelope.code !== 'string' || typeof envelope.message !== 'string')
        throw new Error(`${method} ${path} answered ${res.status} without an error envelope: ${text.slice(0, 300)}`);
    }
  }

  // Deletions last, so that the routes under the fuzz's own objects keep reaching them.
  const ordered = [...ROUTES.entries()].sort(([, a], [, b]) => Number(a.method === 'delete') - Number(b.method === 'delete'));
  for (const [index, route] of ordered) {
    // The routes that run long work (a rotation, a full audit verify) stay in, with fewer runs.
    it(`${route.method.toUpperCase()} ${route.path}`, async () => {
      const replaceable = route.path === '/api/v1/integrations/{id}' && route.method !== 'get';
      const routeIds = replaceable ? [spareIntegrationId, ...ids.slice(1)] : ids;
      const bodySchema = route.body ? (z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any' }) as JsonSchema) : undefined;
      const pathArb = fc.tuple(...[...route.path.matchAll(/\{(\w+)\}/g)].map(() => pathSegment(routeIds))).map((segments) => {
        let i = 0;
        return route.path.replace(/\{\w+\}/g, () => segments[i++]);
      });
      const queryArb = fc
        .array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...(route.query ? Object.keys(route.query.shape) : ['q'])), hostileString.map(percentEncode)),
            fc.oneof(hostileString, fc.constantFrom('1', '0', '500', '501', 'true', 'x', ...routeIds)).map(percentEncode),
          ),
          { maxLength: 4 },
        )
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
      const bodyArb = bodySchema ? arbitraryFor(bodySchema, routeIds) : fc.oneof(fc.constant(undefined), hostileValue);
      const tokenArb = fc.constantFrom(t.adminToken, t.adminToken, userToken);
      const runs = /rotate|verify/.test(route.path) ? 5 : RUNS_PER_ROUTE;
      await fc.assert(
        fc.asyncProperty(pathArb, queryArb, bodyArb, tokenArb, (path, query, body, token) => send(route.method, path, query, body, token)),
        { numRuns: runs, seed: SEED + index, endOnFailure: true },
      );
    });
  }

  it('refuses NUL and lone surrogates by name at the edge (token names, resource search, dates)', async () => {
    const token = await t.api('POST', '/api/v1/tokens', { body: { name: 'ci\u0000' } });
    expect(token.status).toBe(400);
    expect(token.body.details.issues).toContainEqual({ field: 'name', rule: CLEAN_TEXT_RULE });
    const surrogate = await t.api('POST', '/api/v1/users', { raw: '{"email":"x@example.com","name":"\\ud800"}' });
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.details.issues).toContainEqual({ field: 'name', rule: CLEAN_TEXT_RULE });
    const search = await t.api('GET', '/api/v1/resources?q=%00');
    expect(search.status).toBe(400);
    expect(search.body.details.issues).toContainEqual({ field: 'q', rule: CLEAN_TEXT_RULE });
    const far = await t.api('POST', `/api/v1/integrations/${ids[0]}/grants`, {
      body: {
        identity: { id: 'far', email: 'far@example.com' },
        items: [{ resourceType: 'postgresql-database', database: 'app', permission: 'READ_ONLY' }],
        expiresAt: '9999-12-31T23:59:59Z',
      },
    });
    expect(far.status).toBe(400);
    expect(far.body.details.issues[0].field).toBe('expiresAt');
    const audit = await t.api('GET', '/api/v1/audit?from=0000-01-01T00:00:00Z');
    expect(audit.status).toBe(400);
    const token2 = await t.api(
      'GET',
      '/api/v1/access-requests?pageToken=' + Buffer.from(JSON.stringify({ createdAt: '1', id: '-'.repeat(36) })).toString('base64url'),
    );
    expect(token2.status).toBe(400);
  });

  it('reports its figures', () => {
    const byStatus = Object.fromEntries([...statuses.entries()].sort(([a], [b]) => a - b));
    console.log(
      `fuzz: ${requests} requests over ${ROUTES.length} routes (seed ${SEED}), statuses ${JSON.stringify(byStatus)}; /health 503 (services slow to answer): ${healthUnavailable}`,
    );
    expect(requests).toBeGreaterThan(ROUTES.length * 5);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
  });
});
