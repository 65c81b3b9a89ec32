import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createUser, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const GRACE_SECONDS = 60;

interface Person {
  id: string;
  email: string;
  token: string;
}

/**
 * Limits under concurrency, approvers who resolve to nobody, flows the connector cannot grant, and
 * errors people can read, through the gateway against every real service. The connector is not a
 * superuser: it owns database `app` (it can grant there) and has no grant option on `vault`.
 */
describe('correctness: limits under concurrency, warnings, pending expiry, failure reasons', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  let requester: Person;
  let approverA: Person;
  let approverB: Person;
  const tables: Record<string, string> = {};

  const flow = async (body: Record<string, unknown>) => {
    const res = await t.api('POST', '/api/v1/access-flows', {
      body: { requestors: { conditions: [{ type: 'group', match: 'is', values: ['requesters'] }] }, maxDurationMinutes: 60, ...body },
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const request = async (path: string, flowName?: string) => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: requester.token,
      body: { items: [{ resourceId: tables[path], permission: 'READ_ONLY' }], durationMinutes: 10, justification: 'test' },
    });
    expect(res.status).toBe(201);
    return flowName ? res.body.requests.find((r: { flowName: string }) => r.flowName === flowName) : res.body.requests[0];
  };
  const waitStatus = (id: string, status: string) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = await t.api('GET', `/api/v1/access-requests/${id}`);
        return r.body.status === status && r.body;
      },
      60_000,
    );
  const validUntil = async (role: string) => (await pg.query<{ v: Date }>(`SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1`, [role]))[0]?.v;

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR} LOGIN CREATEROLE PASSWORD '${CONNECTOR_PASSWORD}'; GRANT pg_signal_backend TO ${CONNECTOR};`);
    await pg.query(`CREATE DATABASE app OWNER ${CONNECTOR}`);
    await pg.query('CREATE DATABASE vault');
    await pg.query(
      `SET ROLE ${CONNECTOR}; CREATE SCHEMA sales; CREATE TABLE sales.orders (id int); CREATE TABLE sales.refunds (id int); CREATE TABLE sales.returns (id int);`,
      undefined,
      'app',
    );
    await pg.query('CREATE TABLE public.locked (id int)', undefined, 'vault');
    t = await startTestStack({ env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1', REVOCATION_GRACE_SECONDS: String(GRACE_SECONDS) } });

    for (const name of ['requesters', 'approvers', 'empty-team']) expect((await t.api('POST', '/api/v1/groups', { body: { name } })).status).toBe(201);
    const person = async (groups: string[]): Promise<Person> => {
      const { user, token } = await createUser(t, { groups });
      return { id: user.id, email: user.email, token };
    };
    requester = await person(['requesters']);
    approverA = await person(['approvers']);
    approverB = await person(['approvers']);

    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'correctness',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR, password: CONNECTOR_PASSWORD },
        integrationOwners: [{ attribute: 'group', values: ['empty-team', 'no-such-team'] }],
      },
    });
    expect(integration.status).toBe(201);
    expect(integration.body.status).toBe('ACTIVE');
    integrationId = integration.body.id;
    // Owners who name nobody are kept, and the answer says so, value by value.
    expect(integration.body.warnings).toEqual([
      { field: 'integrationOwners.0.values.0', message: expect.stringContaining('group "empty-team" names nobody') },
      { field: 'integrationOwners.0.values.1', message: expect.stringContaining('group "no-such-team" names nobody') },
      { field: 'integrationOwners', message: expect.stringContaining('No integration owner names anybody') },
    ]);
    await waitUntil('tables discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table`);
      for (const r of list.body.items ?? []) tables[r.path] = r.id;
      return tables['app/sales/orders'] && tables['app/sales/refunds'] && tables['app/sales/returns'] && tables['vault/public/locked'];
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  describe('concurrent actions respect limits', () => {
    it('20 parallel extensions with maxExtensions 2: exactly 2 succeed, the others are 409 EXTENSION_LIMIT_REACHED', async () => {
      await flow({
        name: 'auto orders',
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'name', values: ['app/sales/orders'] },
          },
        ],
        approvers: null,
        settings: { justificationRequired: false, maxExtensions: 2 },
      });
      const created = await request('app/sales/orders', 'auto orders');
      const granted = await waitStatus(created.id, 'GRANTED');
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => t.api('POST', `/api/v1/access-requests/${granted.id}/extend`, { token: requester.token, body: { minutes: 5 } })),
      );
      expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused).toHaveLength(18);
      for (const a of refused) {
        expect(a.status).toBe(409);
        expect(a.body).toMatchObject({ code: 'CONFLICT', details: { reason: 'EXTENSION_LIMIT_REACHED', maxExtensions: 2, extensions: 2 } });
      }
      const after = (await t.api('GET', `/api/v1/access-requests/${granted.id}`)).body;
      expect(after.extensions).toBe(2);
      expect(Date.parse(after.expiresAt) - Date.parse(granted.expiresAt)).toBe(2 * 5 * 60_000);
      const grant = (await t.api('GET', `/api/v1/integrations/${integrationId}/grants/${granted.grantId}`)).body;
      expect(grant.expiresAt).toBe(after.expiresAt);
      // The target's own backstop moved with it, exactly twice.
      const details = (await t.api('GET', `/api/v1/access-requests/${granted.id}/access-details`, { token: requester.token })).body;
      expect((await validUntil(details.username))!.getTime()).toBe(Date.parse(after.expiresAt) + GRACE_SECONDS * 1000);
      const audit = (await t.api('GET', `/api/v1/audit?action=request.extended&targetId=${granted.id}`)).body.items;
      expect(audit).toHaveLength(2);
    });

    it('parallel admin extensions of one grant: the latest expiry wins, on the target too', async () => {
      const grant = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
        body: {
          identity: { id: 'ext-race', email: 'ext-race@example.com' },
          items: [{ resourceType: 'postgresql-table', database: 'app', schema: 'sales', table: 'refunds', permission: 'READ_ONLY' }],
          durationMinutes: 10,
        },
      });
      expect(grant.status).toBe(201);
      const base = Date.parse(grant.body.grant.expiresAt);
      const wanted = Array.from({ length: 10 }, (_, i) => new Date(base + (i + 1) * 60_000).toISOString());
      const answers = await Promise.all(
        wanted.map((expiresAt) => t.api('POST', `/api/v1/integrations/${integrationId}/grants/${grant.body.grant.id}/extend`, { body: { expiresAt } })),
      );
      for (const a of answers) expect([200, 400]).toContain(a.status);
      const latest = wanted.at(-1)!;
      const final = (await t.api('GET', `/api/v1/integrations/${integrationId}/grants/${grant.body.grant.id}`)).body;
      expect(final.expiresAt).toBe(latest);
      expect((await validUntil(grant.body.grant.roleName))!.getTime()).toBe(Date.parse(latest) + GRACE_SECONDS * 1000);
    });

    it('parallel password resets: the password the target takes is the one stored, and it logs in', async () => {
      const grant = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
        body: {
          identity: { id: 'reset-race', email: 'reset-race@example.com' },
          items: [{ resourceType: 'postgresql-table', database: 'app', schema: 'sales', table: 'orders', permission: 'READ_ONLY' }],
          durationMinutes: 10,
          idempotencyKey: 'reset-race',
        },
      });
      expect(grant.status).toBe(201);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => t.api('POST', `/api/v1/integrations/${integrationId}/grants/${grant.body.grant.id}/reset-credentials`)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      // Replaying the creation answers the stored password: it must be the one the target holds.
      const replay = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
        body: {
          identity: { id: 'reset-race', email: 'reset-race@example.com' },
          items: [{ resourceType: 'postgresql-table', database: 'app', schema: 'sales', table: 'orders', permission: 'READ_ONLY' }],
          durationMinutes: 10,
          idempotencyKey: 'reset-race',
        },
      });
      const { username, password } = replay.body.credentials;
      const client = new Client({ host: '127.0.0.1', port: pg.port, user: username, password, database: 'app' });
      await client.connect();
      await client.end();
    });

    it('parallel approvals of an ANY_OF request: approved once, the late approver gets 409', async () => {
      await flow({
        name: 'approved refunds',
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'name', values: ['app/sales/refunds'] },
          },
        ],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['approvers'] }] },
      });
      const created = await request('app/sales/refunds', 'approved refunds');
      expect(created.status).toBe('PENDING');
      const answers = await Promise.all(
        [approverA, approverB].map((p) => t.api('POST', `/api/v1/access-requests/${created.id}/approve`, { token: p.token, body: {} })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      const audit = (await t.api('GET', `/api/v1/audit?action=request.approved&targetId=${created.id}`)).body.items;
      expect(audit).toHaveLength(1);
      // Parallel revocations of the same request: one revocation, audited once.
      await waitStatus(created.id, 'GRANTED');
      const revokes = await Promise.all(
        Array.from({ length: 10 }, () => t.api('POST', `/api/v1/access-requests/${created.id}/revoke`, { token: requester.token, body: {} })),
      );
      expect(revokes.map((a) => a.status)).toEqual(Array(10).fill(200));
      await waitStatus(created.id, 'REVOKED');
      expect((await t.api('GET', `/api/v1/audit?action=request.revoked&targetId=${created.id}`)).body.items).toHaveLength(1);
    });
  });

  describe('approvers who resolve to nobody', () => {
    it('warns at flow save, warns on the request, and the request expires on its own (EXPIRED, audited)', async () => {
      const saved = await flow({
        name: 'nobody approves',
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'name', values: ['app/sales/returns'] },
          },
        ],
        approvers: { mode: 'ALL_OF', groups: [{ type: 'group', values: ['empty-team'] }, { type: 'OWNER' }] },
        settings: { pendingExpiryMinutes: 30 },
      });
      expect(saved.warnings).toEqual([
        { field: 'approvers.groups.0.values.0', message: expect.stringContaining('Group "empty-team" has no members') },
        { field: 'approvers.groups.1', message: expect.stringContaining('The integration owners of "correctness"') },
      ]);
      expect(saved.settings.pendingExpiryMinutes).toBe(30);
      const created = await request('app/sales/returns', 'nobody approves');
      expect(created.status).toBe('PENDING');
      expect(Date.parse(created.pendingExpiresAt) - Date.parse(created.createdAt)).toBe(30 * 60_000);
      expect(created.warnings).toHaveLength(2);
      expect(created.warnings[0]).toEqual({
        field: 'approverGroups.0',
        message: expect.stringMatching(/Nobody can approve for group empty-team.*only an admin can decide.*expires at/),
      });
      // Half an hour later (moved back in the control database rather than waited for):
      await t.control(`UPDATE access.access_requests SET created_at = created_at - interval '31 minutes' WHERE id = $1`, [created.id]);
      const expired = await waitStatus(created.id, 'EXPIRED');
      expect(expired.statusReason).toBe('no decision within 30 minute(s): the request expired while PENDING');
      expect(expired.grantedAt).toBeNull();
      expect(expired.warnings).toEqual([]);
      const audit = (await t.api('GET', `/api/v1/audit?action=request.expired&targetId=${created.id}`)).body.items;
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: { type: 'system' }, details: { status: 'EXPIRED', pending: true } });
    });
  });

  describe('flows the connector cannot grant', () => {
    it('warns at save with the fix SQL, and a failed grant carries its reason and fix SQL to the request', async () => {
      const clean = await flow({
        name: 'auto app',
        targets: [
          { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/*/*'] } },
        ],
        approvers: null,
        settings: { justificationRequired: false },
      });
      expect(clean.warnings).toEqual([]);
      const saved = await flow({
        name: 'auto vault',
        targets: [
          { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['vault/*/*'] } },
        ],
        approvers: null,
        settings: { justificationRequired: false },
      });
      expect(saved.warnings).toEqual([
        { field: 'targets.0', message: expect.stringContaining(`GRANT CONNECT ON DATABASE "vault" TO "${CONNECTOR}" WITH GRANT OPTION;`) },
      ]);
      const created = await request('vault/public/locked', 'auto vault');
      const failed = await waitStatus(created.id, 'FAILED');
      expect(failed.failureReason).toContain('To fix it, an administrator runs on the target:');
      expect(failed.failureReason).toMatch(new RegExp(`GRANT .* TO "${CONNECTOR}" WITH GRANT OPTION;`));
      expect(failed.statusReason).toBe(failed.failureReason);
    });
  });

  describe('errors read as sentences for people', () => {
    it('a body that is JSON but not an object "must be a JSON object"; one that is not JSON "must be valid JSON"', async () => {
      for (const raw of ['42', '"text"', '[1]', 'null']) {
        const res = await t.api('POST', '/api/v1/users', { raw });
        expect(res.status).toBe(400);
        expect(res.body.details.issues).toEqual([{ field: '(body)', rule: 'must be a JSON object' }]);
      }
      const broken = await t.api('POST', '/api/v1/users', { raw: '{"email":' });
      expect(broken.status).toBe(400);
      expect(broken.body.details.issues).toEqual([{ field: '(body)', rule: 'must be valid JSON' }]);
    });

    it('a body in another media type is 415 naming application/json', async () => {
      const res = await t.api('POST', '/api/v1/users', { raw: 'email=a@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(415);
      expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(res.body.message).toContain('application/json');
      expect(res.headers.get('accept')).toBe('application/json');
    });

    it('a known path with the wrong method is 405 with Allow; an unknown path is 404', async () => {
      const tokens = await t.api('DELETE', '/api/v1/tokens');
      expect(tokens.status).toBe(405);
      expect(tokens.headers.get('allow')).toBe('GET, HEAD, POST');
      expect(tokens.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { allow: ['GET', 'HEAD', 'POST'] } });
      const one = await t.api('PATCH', `/api/v1/access-flows/${integrationId}`, { body: {} });
      expect(one.status).toBe(405);
      expect(one.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
      expect((await t.api('GET', '/api/v1/no-such-thing')).status).toBe(404);
    });

    it('zod\'s phrasing becomes "is required" / "must be a string"; record-key rules are stated', async () => {
      const missing = await t.api('POST', '/api/v1/users', { body: { name: 7, attributes: { '9 lives': 'x' }, extra: true } });
      expect(missing.status).toBe(400);
      expect(missing.body.details.issues).toEqual(
        expect.arrayContaining([
          { field: 'email', rule: 'is required' },
          { field: 'name', rule: 'must be a string' },
          { field: 'attributes.9 lives', rule: 'is not an allowed key: keys must be 1-64 characters of letters, digits and _, starting with a letter' },
          { field: 'extra', rule: 'is not a known field' },
        ]),
      );
      expect(missing.text).not.toMatch(/Invalid input|expected string, received/);
      const tags = await t.api('PUT', `/api/v1/resources/${tables['app/sales/orders']}/tags`, { body: { tags: { 'bad key!': 'x' } } });
      expect(tags.status).toBe(400);
      expect(tags.body.details.issues).toEqual([{ field: 'tags.bad key!', rule: 'is not an allowed key: keys are 1-128 letters, digits, _ . : / -' }]);
    });
  });
});
