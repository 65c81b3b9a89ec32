import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;

interface Person {
  id: string;
  email: string;
  token: string;
}

/**
 * The access flow story of the issue, through the gateway against every real service: a flow for
 * analysts with owner approval, an owner from a table's comment tag, a real scram login with the
 * handed-out password, one read of it, expiry; and the faults around it.
 */
describe('access requests: flows, approvals, one-time credentials, expiry', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  const people: Record<string, Person> = {};
  const resources: Record<string, string> = {};
  const passwords: string[] = [];
  /** Passwords handed to people other than the analyst, kept out of the audit log and the logs too. */
  const revealed: string[] = [];
  let analystFlowId: string;
  let firstRequestId: string;

  const as = (who: string) => ({ token: people[who].token });
  const post = (who: string, path: string, body?: unknown) => t.api('POST', path, { ...as(who), body: body ?? {} });
  const get = (who: string, path: string) => t.api('GET', path, as(who));
  const requestStatus = async (id: string) => (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
  const waitStatus = (id: string, status: string, timeoutMs = 60_000) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = await requestStatus(id);
        return r.status === status && r;
      },
      timeoutMs,
    );
  const login = async (details: { username: string; password: string; database: string }) => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: details.username, password: details.password, database: details.database });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  const addPerson = async (key: string, groups: string[], role: 'admin' | 'user' = 'user') => {
    const email = `${key}-${randomBytes(3).toString('hex')}@example.com`;
    const user = await t.api('POST', '/api/v1/users', { body: { email, name: key, groups, role } });
    expect(user.status).toBe(201);
    const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: `${key} e2e` } });
    expect(token.status).toBe(201);
    people[key] = { id: user.body.id, email, token: token.body.token };
  };

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query(
      `CREATE SCHEMA billing; CREATE SCHEMA hr;
       CREATE TABLE billing.invoices (id int PRIMARY KEY, total numeric); INSERT INTO billing.invoices VALUES (1, 10), (2, 20);
       COMMENT ON TABLE billing.invoices IS 'Invoices
latchkey:owner=data-team';
       CREATE TABLE billing.payments (id int PRIMARY KEY, amount numeric); INSERT INTO billing.payments VALUES (1, 5);
       CREATE TABLE hr.salaries (id int, amount numeric); INSERT INTO hr.salaries VALUES (1, 1000);`,
      undefined,
      'app',
    );
    t = await startTestStack({
      env: {
        ACCESS_SWEEP_INTERVAL_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
        REVOCATION_GRACE_SECONDS: '60',
        REVOCATION_ATTEMPTS: '2',
        REVOCATION_BACKOFF_MS: '200',
      },
    });

    for (const group of ['analysts', 'data-team', 'ops', 'security']) await t.api('POST', '/api/v1/groups', { body: { name: group } });
    await addPerson('analyst', ['analysts']);
    await addPerson('dana', ['data-team']);
    await addPerson('olga', ['ops']);
    await addPerson('sam', ['security']);
    await addPerson('outsider', []);

    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'app',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table', 'postgresql-schema'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
        customAccessDetails: 'Ask #data-help for the VPN.',
        integrationOwners: [{ attribute: 'group', values: ['ops'] }],
        resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }],
      },
    });
    expect(integration.body.status).toBe('ACTIVE');
    integrationId = integration.body.id;
    await waitUntil('discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table&pageSize=100`);
      for (const r of list.body.items ?? []) resources[r.path] = r.id;
      return resources['app/billing/invoices'] && resources['app/billing/payments'] && resources['app/hr/salaries'];
    });

    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts read owned tables',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'tag', key: 'owner', values: ['*'] },
          },
        ],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
        maxDurationMinutes: 1,
      },
    });
    expect(flow.status).toBe(201);
    analystFlowId = flow.body.id;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('refuses flows that could never match, naming every broken rule', async () => {
    const res = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'broken',
        requestors: { conditions: [{ type: 'attribute', match: 'is', values: ['x'] }] },
        targets: [
          { integrationId: '00000000-0000-4000-8000-000000000000', resourceType: 'postgresql-table', permissions: ['READ_ONLY'] },
          { integrationId, resourceType: 'postgresql-role', permissions: ['READ_ONLY'] },
        ],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['no-such-group'] }] },
        maxDurationMinutes: 0,
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.details.issues.map((i: { field: string }) => i.field)).toEqual(
      expect.arrayContaining(['requestors.conditions.0.attribute', 'maxDurationMinutes']),
    );
    const semantic = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'never matches',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [
          { integrationId: '00000000-0000-4000-8000-000000000000', resourceType: 'postgresql-table', permissions: ['READ_ONLY'] },
          { integrationId, resourceType: 'postgresql-role', permissions: ['READ_ONLY'] },
        ],
        approvers: {
          mode: 'ANY_OF',
          groups: [
            { type: 'group', values: ['no-such-group'] },
            { type: 'user', values: ['nobody@example.com'] },
          ],
        },
        maxDurationMinutes: 10,
      },
    });
    expect(semantic.status).toBe(400);
    expect(semantic.body.details.issues).toEqual(
      expect.arrayContaining([
        { field: 'targets.0.integrationId', rule: 'must name an existing integration' },
        { field: 'targets.1.resourceType', rule: expect.stringContaining('connected resource types') },
        { field: 'targets.1.permissions.0', rule: 'READ_ONLY is not offered by postgresql-role (it offers MEMBER)' },
        { field: 'approvers.groups.0.values.0', rule: expect.stringContaining('no-such-group') },
        { field: 'approvers.groups.1.values.0', rule: expect.stringContaining('nobody@example.com') },
      ]),
    );
    expect((await post('analyst', '/api/v1/access-flows', { name: 'x' })).status).toBe(403);
  });

  it('says why when no flow allows a request, and a dry run creates nothing', async () => {
    const ask = (body: Record<string, unknown>) => post('analyst', '/api/v1/access-requests', body);
    const invoices = resources['app/billing/invoices'];
    const write = await ask({ items: [{ resourceId: invoices, permission: 'READ_WRITE' }], justification: 'fix', durationMinutes: 1 });
    expect(write.status).toBe(403);
    expect(write.body.details.denials[0].reasons).toEqual(['no active access flow covers READ_WRITE on app/billing/invoices']);
    const long = await ask({ items: [{ resourceId: invoices, permission: 'READ_ONLY' }], durationMinutes: 5 });
    expect(long.status).toBe(403);
    expect(long.body.details.denials[0].reasons).toEqual([
      'duration 5 minutes is above the maximum 1 of flow "analysts read owned tables"',
      'flow "analysts read owned tables" requires a justification',
    ]);
    const outsider = await post('outsider', '/api/v1/access-requests', {
      items: [{ resourceId: invoices, permission: 'READ_ONLY' }],
      justification: 'x',
      durationMinutes: 1,
    });
    expect(outsider.status).toBe(403);
    expect(outsider.body.message).toContain('you are not among the requestors');
    const salaries = await ask({ items: [{ resourceId: resources['app/hr/salaries'], permission: 'READ_ONLY' }], justification: 'x', durationMinutes: 1 });
    expect(salaries.status).toBe(403);
    const unknown = await ask({ items: [{ resourceId: '00000000-0000-4000-8000-000000000000', permission: 'READ_ONLY' }], durationMinutes: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details.issues).toEqual([{ field: 'items.0.resourceId', rule: 'must be the id of a discovered resource' }]);

    const dry = await ask({ items: [{ resourceId: invoices, permission: 'READ_ONLY' }], justification: 'quarterly numbers', durationMinutes: 1, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.requests).toHaveLength(1);
    expect(dry.body.requests[0]).toMatchObject({ id: null, status: 'PENDING', flowId: analystFlowId });
    expect(dry.body.requests[0].approverGroups[0].approverEmails).toEqual([people.dana.email]);
    expect(await t.control('SELECT count(*)::int AS n FROM access.access_requests')).toEqual([{ n: 0 }]);
  });

  it('an owner approves, the analyst logs in with the password shown once, and only the requester sees it', async () => {
    const created = await post('analyst', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/billing/invoices'], permission: 'READ_ONLY' }],
      justification: 'quarterly numbers',
      durationMinutes: 1,
    });
    expect(created.status).toBe(201);
    const request = created.body.requests[0];
    firstRequestId = request.id;
    expect(request).toMatchObject({ status: 'PENDING', requesterId: people.analyst.id, approvalMode: 'ANY_OF' });
    // The owner comes from the table's comment tag through the resource-owner mapping, not the integration owners.
    expect(request.approverGroups[0]).toMatchObject({ type: 'OWNER', approverEmails: [people.dana.email] });

    const self = await post('analyst', `/api/v1/access-requests/${request.id}/approve`);
    expect(self.status).toBe(403);
    expect(self.body.message).toBe('You cannot approve or reject your own request.');
    expect((await post('olga', `/api/v1/access-requests/${request.id}/approve`)).status).toBe(404);
    const awaiting = await get('dana', '/api/v1/access-requests?awaitingMyApproval=true');
    expect(awaiting.body.items.map((r: { id: string }) => r.id)).toEqual([request.id]);

    const approved = await post('dana', `/api/v1/access-requests/${request.id}/approve`, { reason: 'ok for Q4' });
    expect(approved.status).toBe(200);
    expect(approved.body.approvals[0]).toMatchObject({ email: people.dana.email, decision: 'APPROVED', reason: 'ok for Q4', asAdmin: false });
    const granted = await waitStatus(request.id, 'GRANTED');
    // The minute starts when the login is made, not when the request was approved: it ends more than a
    // minute after the approval, and no later than a minute after access recorded the grant (a gap that
    // load widens, so it bounds nothing from below).
    expect(Date.parse(granted.expiresAt) - Date.parse(approved.body.approvals[0].at)).toBeGreaterThan(60_000);
    expect(Date.parse(granted.expiresAt) - Date.parse(granted.grantedAt)).toBeLessThanOrEqual(60_000);

    expect((await get('dana', `/api/v1/access-requests/${request.id}/access-details`)).status).toBe(403);
    const details = await get('analyst', `/api/v1/access-requests/${request.id}/access-details`);
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({
      host: '127.0.0.1',
      port: pg.port,
      database: 'app',
      sslmode: 'disable',
      customAccessDetails: 'Ask #data-help for the VPN.',
    });
    expect(details.body.password).toEqual(expect.any(String));
    expect(details.body.psql).toBe(`psql 'host=127.0.0.1 port=${pg.port} dbname=app user=${details.body.username} sslmode=disable'`);
    passwords.push(details.body.password);

    const session = await login(details.body);
    expect((await session.query('SELECT count(*)::int AS n FROM billing.invoices')).rows[0].n).toBe(2);
    await expect(session.query('SELECT * FROM hr.salaries')).rejects.toMatchObject({ code: '42501' });
    await expect(session.query('DELETE FROM billing.invoices')).rejects.toMatchObject({ code: '42501' });
    await session.end();

    const again = await get('analyst', `/api/v1/access-requests/${request.id}/access-details`);
    expect(again.status).toBe(200);
    expect(again.body.password).toBeNull();
    expect(again.body.passwordViewedAt).toEqual(expect.any(String));
    expect(t.responses.filter((text) => text.includes(details.body.password))).toHaveLength(1);
    expect(JSON.stringify(await t.control('SELECT * FROM access.access_requests'))).not.toContain(details.body.password);
  });

  it('ALL_OF waits for every group', async () => {
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'payments needs ops and security',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'name', values: ['app/billing/payments'] },
          },
        ],
        approvers: {
          mode: 'ALL_OF',
          groups: [
            { type: 'group', values: ['ops'] },
            { type: 'group', values: ['security'] },
          ],
        },
        maxDurationMinutes: 10,
        settings: { justificationRequired: false, approverReasonRequired: true },
      },
    });
    expect(flow.status).toBe(201);
    const created = await post('analyst', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/billing/payments'], permission: 'READ_ONLY' }],
      durationMinutes: 5,
    });
    const id = created.body.requests[0].id;
    const noReason = await post('olga', `/api/v1/access-requests/${id}/approve`);
    expect(noReason.status).toBe(400);
    expect(noReason.body.details.issues).toEqual([{ field: 'reason', rule: 'is required by flow "payments needs ops and security"' }]);
    const first = await post('olga', `/api/v1/access-requests/${id}/approve`, { reason: 'ops ok' });
    expect(first.body.status).toBe('PENDING');
    expect(first.body.approverGroups.map((g: { satisfiedBy: string | null }) => g.satisfiedBy)).toEqual([people.olga.email, null]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await requestStatus(id)).status).toBe('PENDING');
    const second = await post('sam', `/api/v1/access-requests/${id}/approve`, { reason: 'security ok' });
    expect(second.body.status).toBe('APPROVED');
    await waitStatus(id, 'GRANTED');
    const revoked = await post('analyst', `/api/v1/access-requests/${id}/revoke`, { reason: 'done' });
    expect(revoked.status).toBe(200);
    await waitStatus(id, 'REVOKED');

    const rejected = await post('analyst', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/billing/payments'], permission: 'READ_ONLY' }],
      durationMinutes: 5,
    });
    const rid = rejected.body.requests[0].id;
    const no = await post('sam', `/api/v1/access-requests/${rid}/reject`, { reason: 'not this quarter' });
    expect(no.body).toMatchObject({ status: 'REJECTED', approvals: [{ decision: 'REJECTED', reason: 'not this quarter' }] });
    expect((await post('olga', `/api/v1/access-requests/${rid}/approve`, { reason: 'late' })).status).toBe(409);

    // An admin who is no approver settles every group at once.
    const third = await post('analyst', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/billing/payments'], permission: 'READ_ONLY' }],
      durationMinutes: 5,
    });
    const byAdmin = await t.api('POST', `/api/v1/access-requests/${third.body.requests[0].id}/approve`, { body: { reason: 'break glass' } });
    expect(byAdmin.body).toMatchObject({ status: 'APPROVED', approvals: [{ asAdmin: true, reason: 'break glass' }] });
    await waitStatus(third.body.requests[0].id, 'GRANTED');
    expect((await t.api('POST', `/api/v1/access-requests/${third.body.requests[0].id}/revoke`)).body.status).toMatch(/REVOKING|REVOKED/);
    await waitStatus(third.body.requests[0].id, 'REVOKED');
  });

  it('grants exactly once when the access service is killed between approval and grant, with Redis emptied too', async () => {
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts write payments, automatic',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_WRITE'],
            resources: { mode: 'include', by: 'name', values: ['app/billing/pay*'] },
          },
        ],
        approvers: null,
        maxDurationMinutes: 10,
        settings: { justificationRequired: false, maxExtensions: 1 },
      },
    });
    expect(flow.status).toBe(201);
    await t.stack.stopProcess('provisioning');
    const created = await post('analyst', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/billing/payments'], permission: 'READ_WRITE' }],
      durationMinutes: 5,
    });
    const id = created.body.requests[0].id;
    expect(created.body.requests[0].status).toBe('APPROVED');
    await waitUntil('a failed grant attempt', async () => (await requestStatus(id)).statusReason?.startsWith('waiting for provisioning'));
    await t.stack.kill('access');
    await t.redis.flushAll();
    t.stack.startProcess('provisioning', 'provisioning');
    t.stack.startProcess('access', 'access');
    await t.stack.waitHealthy(60_000);
    await waitStatus(id, 'GRANTED', 60_000);
    const grants = await t.api('GET', `/api/v1/integrations/${integrationId}/grants?pageSize=500`);
    expect(grants.body.items.filter((g: { idempotencyKey: string }) => g.idempotencyKey === `access-request-${id}`)).toHaveLength(1);

    const details = (await get('analyst', `/api/v1/access-requests/${id}/access-details`)).body;
    passwords.push(details.password);
    const session = await login(details);
    await session.query('INSERT INTO billing.payments VALUES (2, 7)');
    await session.end();

    // Extend within the flow's limits.
    expect((await post('analyst', `/api/v1/access-requests/${id}/extend`, { minutes: 20 })).status).toBe(400);
    const extended = await post('analyst', `/api/v1/access-requests/${id}/extend`, { minutes: 5 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt) - Date.parse(details.expiresAt)).toBe(5 * 60_000);
    expect((await post('analyst', `/api/v1/access-requests/${id}/extend`, { minutes: 5 })).status).toBe(409);

    // A new password: the old one stops working.
    const reset = await post('analyst', `/api/v1/access-requests/${id}/reset-credentials`);
    expect(reset.status).toBe(200);
    passwords.push(reset.body.password);
    await expect(login(details)).rejects.toMatchObject({ code: '28P01' });
    const fresh = await login(reset.body);
    const revoked = await post('analyst', `/api/v1/access-requests/${id}/revoke`);
    expect(revoked.body.status).toMatch(/REVOKING|REVOKED/);
    await waitStatus(id, 'REVOKED');
    await expect(fresh.query('SELECT 1')).rejects.toThrow();
    // The analyst's personal login stays open for their other grant (invoices), without this one's rights.
    const after = await login(reset.body);
    await expect(after.query('INSERT INTO billing.payments VALUES (3, 9)')).rejects.toMatchObject({ code: '42501' });
    expect((await after.query('SELECT count(*)::int AS n FROM billing.invoices')).rows[0].n).toBe(2);
    await after.end();
  });

  it('shows a stuck revocation as REVOKING with its error, and REVOKED once provisioning gets through', async () => {
    const created = await post('analyst', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/billing/payments'], permission: 'READ_WRITE' }],
      durationMinutes: 5,
    });
    const id = created.body.requests[0].id;
    await waitStatus(id, 'GRANTED');
    // A new grant gives the person's login a new password.
    passwords.push((await get('analyst', `/api/v1/access-requests/${id}/access-details`)).body.password);
    // The connector can no longer log in: every revocation attempt fails.
    await pg.query(`ALTER ROLE ${CONNECTOR_USER} NOLOGIN`);
    await pg.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [CONNECTOR_USER]);
    try {
      expect((await post('analyst', `/api/v1/access-requests/${id}/revoke`)).status).toBe(200);
      const stuck = await waitUntil('a stuck revocation', async () => {
        const r = await requestStatus(id);
        return r.statusReason?.startsWith('revocation stuck') && r;
      });
      expect(stuck.status).toBe('REVOKING');
    } finally {
      await pg.query(`ALTER ROLE ${CONNECTOR_USER} LOGIN`);
    }
    await waitStatus(id, 'REVOKED', 60_000);
  });

  it('lists with filters and pages; people see only their own requests and those they may approve', async () => {
    const ids = async (who: string, query: string) => {
      const res = await get(who, `/api/v1/access-requests?pageSize=500${query}`);
      expect(res.status).toBe(200);
      return res.body.items.map((r: { id: string }) => r.id) as string[];
    };
    const all = await ids('analyst', '');
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(await ids('analyst', `&flowId=${analystFlowId}`)).toEqual([firstRequestId]);
    expect(await ids('analyst', `&status=REJECTED`)).toHaveLength(1);
    expect(await ids('analyst', `&integrationId=${integrationId}&requesterId=${people.analyst.id}`)).toEqual(all);
    expect(await ids('analyst', `&from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(await ids('outsider', '')).toEqual([]);
    expect(await ids('dana', '')).toEqual([firstRequestId]);
    expect((await get('outsider', `/api/v1/access-requests/${firstRequestId}`)).status).toBe(404);

    const pages: string[] = [];
    let token: string | undefined;
    do {
      const res = await get('analyst', `/api/v1/access-requests?pageSize=2${token ? `&pageToken=${token}` : ''}`);
      pages.push(...res.body.items.map((r: { id: string }) => r.id));
      token = res.body.nextPageToken;
    } while (token);
    expect(pages).toEqual(all);
    const bad = await get('analyst', '/api/v1/access-requests?pageToken=nope&status=DONE');
    expect(bad.status).toBe(400);
    expect(bad.body.details.issues.map((i: { field: string }) => i.field)).toEqual(['status']);
    expect((await get('analyst', '/api/v1/access-requests?pageToken=nope')).body.details.issues).toEqual([
      { field: 'pageToken', rule: 'must be a token from a previous page' },
    ]);
  });

  it('hands the password of an automatic grant in the answer to a request that waits for it: one call, one read, a real login', async () => {
    await t.api('POST', '/api/v1/groups', { body: { name: 'contractors' } });
    await addPerson('eve', ['contractors']);
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'contractors read payments at once',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['contractors'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 30,
        settings: { justificationRequired: false },
      },
    });
    expect(flow.status).toBe(201);
    const item = { resourceId: resources['app/billing/payments'], permission: 'READ_ONLY' };

    const bad = await post('eve', '/api/v1/access-requests', { items: [item], durationMinutes: 5, revealCredentials: true, waitSeconds: 11 });
    expect(bad.status).toBe(400);
    expect(bad.body.details.issues).toEqual([{ field: 'waitSeconds', rule: 'must be at most 10' }]);
    const noWait = await post('eve', '/api/v1/access-requests', { items: [item], durationMinutes: 5, revealCredentials: true });
    expect(noWait.status).toBe(400);
    expect(noWait.body.details.issues).toEqual([{ field: 'revealCredentials', rule: 'needs waitSeconds of at least 1' }]);

    const created = await post('eve', '/api/v1/access-requests', { items: [item], durationMinutes: 5, waitSeconds: 10, revealCredentials: true });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const [request] = created.body.requests;
    expect(request).toMatchObject({ status: 'GRANTED', approvalMode: 'AUTOMATIC', passwordViewedAt: expect.any(String) });
    expect(created.body.accessDetails).toEqual([
      expect.objectContaining({ requestId: request.id, host: '127.0.0.1', port: pg.port, database: 'app', password: expect.any(String) }),
    ]);
    const details = created.body.accessDetails[0];
    revealed.push(details.password);

    const session = await login(details);
    expect((await session.query('SELECT count(*)::int AS n FROM billing.payments')).rows[0].n).toBeGreaterThanOrEqual(1);
    await expect(session.query('SELECT * FROM billing.invoices')).rejects.toMatchObject({ code: '42501' });
    await session.end();

    const again = await get('eve', `/api/v1/access-requests/${request.id}/access-details`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ username: details.username, password: null, passwordViewedAt: request.passwordViewedAt });
    const audit = await t.api('GET', `/api/v1/audit?targetId=${request.id}&pageSize=100`);
    expect(audit.body.items.map((e: { action: string }) => e.action).reverse()).toEqual([
      'request.created',
      'request.approved',
      'request.granted',
      'request.credentials-viewed',
    ]);
    expect(audit.body.items[0]).toMatchObject({ actor: { type: 'user', id: people.eve.id }, details: { inCreationAnswer: true } });
    expect(t.responses.filter((text) => text.includes(details.password))).toHaveLength(1);
    expect(JSON.stringify(await t.control('SELECT * FROM access.access_requests'))).not.toContain(details.password);

    // Without revealCredentials the answer waits for the grant and the password stays for its one read.
    const waited = await post('eve', '/api/v1/access-requests', {
      items: [{ resourceId: resources['app/hr/salaries'], permission: 'READ_ONLY' }],
      durationMinutes: 5,
      waitSeconds: 10,
    });
    expect(waited.status).toBe(201);
    expect(waited.body.requests[0]).toMatchObject({ status: 'GRANTED', passwordViewedAt: null });
    expect(waited.body).not.toHaveProperty('accessDetails');
    const read = await get('eve', `/api/v1/access-requests/${waited.body.requests[0].id}/access-details`);
    expect(read.body.password).toEqual(expect.any(String));
    revealed.push(read.body.password);
  });

  it("routes the next request to a table's new owner as soon as its tags change (a recently read resource is not reused)", async () => {
    const ask = () =>
      post('analyst', '/api/v1/access-requests', {
        items: [{ resourceId: resources['app/billing/invoices'], permission: 'READ_ONLY' }],
        justification: 'who owns it now',
        durationMinutes: 1,
        dryRun: true,
      });
    const approversNow = async () => {
      const res = await ask();
      expect(res.status).toBe(200);
      return res.body.requests[0].approverGroups[0].approverEmails;
    };
    expect(await approversNow()).toEqual([people.dana.email]);
    expect((await t.api('PUT', `/api/v1/resources/${resources['app/billing/invoices']}/tags`, { body: { tags: { owner: 'ops' } } })).status).toBe(200);
    expect(await approversNow()).toEqual([people.olga.email]);
    expect((await t.api('PUT', `/api/v1/resources/${resources['app/billing/invoices']}/tags`, { body: { tags: {} } })).status).toBe(200);
    expect(await approversNow()).toEqual([people.dana.email]);
  });

  it('cuts the analyst off at expiry; the audit chain verifies, never holds a secret, and breaks when a row is edited', async () => {
    const expired = await waitStatus(firstRequestId, 'EXPIRED', 90_000);
    expect(Date.parse(expired.endedAt)).toBeGreaterThanOrEqual(Date.parse(expired.expiresAt));
    const username = (await t.control<{ login: { username: string } }>('SELECT login FROM access.access_requests WHERE id = $1', [firstRequestId]))[0].login
      .username;
    expect((await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [username]))[0].rolcanlogin).toBe(false);
    // The latest password of the analyst's login (reset above) no longer opens it.
    await expect(login({ username, password: passwords.at(-1)!, database: 'app' })).rejects.toMatchObject({ code: '28000' });

    const audit = await t.api('GET', '/api/v1/audit?targetId=' + firstRequestId + '&pageSize=100');
    expect(audit.body.items.map((e: { action: string }) => e.action).reverse()).toEqual([
      'request.created',
      'request.approved',
      'request.granted',
      'request.credentials-viewed',
      'request.expired',
    ]);
    const all = JSON.stringify(await t.control('SELECT * FROM access.audit_log'));
    const logs = t.stack.output();
    for (const secret of [...passwords, ...revealed, CONNECTOR_PASSWORD, ...Object.values(people).map((p) => p.token), t.adminToken]) {
      expect(all).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }

    expect((await t.api('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true, firstBroken: null });
    const [victim] = await t.control<{ seq: string }>("SELECT seq FROM access.audit_log WHERE action = 'request.approved' ORDER BY seq LIMIT 1");
    await t.control("UPDATE access.audit_log SET details = jsonb_set(details, '{reason}', '\"edited\"') WHERE seq = $1", [victim.seq]);
    const broken = (await t.api('GET', '/api/v1/audit/verify')).body;
    expect(broken.ok).toBe(false);
    expect(broken.firstBroken.seq).toBe(Number(victim.seq));
  });
});
