import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Person {
  id: string;
  email: string;
  token: string;
}

/**
 * Deprovisioning takes back what provisioning gave (issue 16): people and groups pushed by the
 * identity provider over SCIM get real grants on a private target; when the provider deactivates
 * a person, removes them from the group their flow rests on, or removes an approver from the
 * approver group, the target's own catalog (pg_roles, pg_auth_members, pg_stat_activity) and the
 * requests show it within seconds, and the audit log names the SCIM token and the reason.
 */
describe('SCIM deprovisioning: grants, pending requests and approvals follow the identity provider', () => {
  let pg: PgCluster;
  let t: TestStack;
  let scimToken: string;
  let scimTokenId: string;
  let analystsId: string;
  let approversId: string;
  const people: Record<string, Person> = {};
  const tables: Record<string, string> = {};

  const scim = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${scimToken}`, accept: 'application/scim+json', ...(body ? { 'content-type': 'application/scim+json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const request = async (id: string) => (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
  const waitStatus = (id: string, status: string) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = await request(id);
        return r.status === status && r;
      },
      60_000,
    );
  const ask = async (who: string, table: string, permission: string) => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: people[who].token,
      body: { items: [{ resourceId: tables[table], permission }], justification: 'e2e', durationMinutes: 30 },
    });
    expect(res.status).toBe(201);
    return res.body.requests[0].id as string;
  };
  /** A granted request's login, with a session left open on the target. */
  const grantedSession = async (who: string, requestId: string) => {
    await waitStatus(requestId, 'GRANTED');
    const details = (await t.api('GET', `/api/v1/access-requests/${requestId}/access-details`, { token: people[who].token })).body;
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: details.username, password: details.password, database: 'app' });
    client.on('error', () => undefined);
    await client.connect();
    expect((await client.query('SELECT count(*)::int AS n FROM billing.invoices')).rows[0].n).toBe(2);
    return { username: details.username as string, password: details.password as string, client };
  };
  const canLogin = async (role: string) =>
    (await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  const sessionsOf = async (role: string) => (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]))[0].n;
  const membershipsOf = async (role: string) =>
    (
      await pg.query<{ rolname: string }>(
        'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1',
        [role],
      )
    ).map((m) => m.rolname);
  const loginRefused = async (username: string, password: string) => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: username, password, database: 'app' });
    client.on('error', () => undefined);
    return client.connect().then(
      async () => {
        await client.end();
        return false;
      },
      () => true,
    );
  };
  const auditOf = (requestId: string) =>
    t.control<{ action: string; actor: any; details: any }>('SELECT action, actor, details FROM access.audit_log WHERE target_id = $1 ORDER BY queued', [
      requestId,
    ]);

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query(
      `CREATE SCHEMA billing;
       CREATE TABLE billing.invoices (id int PRIMARY KEY, total numeric); INSERT INTO billing.invoices VALUES (1, 10), (2, 20);
       CREATE TABLE billing.payments (id int PRIMARY KEY, amount numeric); INSERT INTO billing.payments VALUES (1, 5);`,
      undefined,
      'app',
    );
    t = await startTestStack({ env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' } });

    const created = await t.api('POST', '/api/v1/scim-tokens', { body: { name: 'okta' } });
    scimToken = created.body.token;
    scimTokenId = created.body.id;
    // The identity provider pushes the people and their groups.
    for (const name of ['ana', 'ben', 'eve', 'carl', 'dora']) {
      const email = `${name}-${randomBytes(3).toString('hex')}@example.com`;
      const user = await scim('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: email,
        name: { givenName: name, familyName: 'Test' },
        active: true,
      });
      expect(user.status).toBe(201);
      const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: `${name} e2e` } });
      people[name] = { id: user.body.id, email, token: token.body.token };
    }
    const analysts = await scim('POST', '/Groups', { displayName: 'analysts', members: ['ana', 'ben', 'eve'].map((n) => ({ value: people[n].id })) });
    const approvers = await scim('POST', '/Groups', { displayName: 'approvers', members: ['carl', 'dora'].map((n) => ({ value: people[n].id })) });
    expect([analysts.status, approvers.status]).toEqual([201, 201]);
    analystsId = analysts.body.id;
    approversId = approvers.body.id;

    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'app',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(integration.body.status).toBe('ACTIVE');
    const integrationId = integration.body.id;
    await waitUntil('discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table&pageSize=100`);
      for (const r of list.body.items ?? []) tables[r.path] = r.id;
      return tables['app/billing/invoices'] && tables['app/billing/payments'];
    });
    const analystsOnly = { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] };
    const flows = [
      {
        name: 'analysts read invoices',
        requestors: analystsOnly,
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 60,
      },
      {
        name: 'analysts write payments',
        requestors: analystsOnly,
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_WRITE'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['approvers'] }] },
        maxDurationMinutes: 60,
      },
    ];
    for (const body of flows) expect((await t.api('POST', '/api/v1/access-flows', { body })).status).toBe(201);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('deactivation revokes every grant of the person on the target (login off, memberships out, sessions gone) and rejects their pending requests', async () => {
    const granted = await ask('ana', 'app/billing/invoices', 'READ_ONLY');
    const pending = await ask('ana', 'app/billing/payments', 'READ_WRITE');
    const session = await grantedSession('ana', granted);
    expect(await canLogin(session.username)).toBe(true);
    expect(await sessionsOf(session.username)).toBe(1);
    expect((await request(pending)).status).toBe('PENDING');

    const patched = await scim('PATCH', `/Users/${people.ana.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(patched.status).toBe(200);

    const revoked = await waitStatus(granted, 'REVOKED');
    expect(revoked.revokedBy).toMatchObject({ type: 'system', id: `scim-token:${scimTokenId}` });
    expect(await canLogin(session.username)).toBe(false);
    expect(await membershipsOf(session.username)).toEqual(['latchkey_managed']);
    await waitUntil('the open session is gone', async () => (await sessionsOf(session.username)) === 0);
    expect(await loginRefused(session.username, session.password)).toBe(true);

    const rejected = await waitStatus(pending, 'REJECTED');
    expect(rejected.statusReason).toBe('the requester was deactivated (deactivated by the identity provider (SCIM))');
    const grantAudit = await auditOf(granted);
    expect(grantAudit.filter((e) => ['request.revocation-requested', 'request.revoked'].includes(e.action))).toEqual([
      expect.objectContaining({
        action: 'request.revocation-requested',
        actor: expect.objectContaining({ id: `scim-token:${scimTokenId}` }),
        details: expect.objectContaining({ reason: expect.stringContaining('deactivated') }),
      }),
      expect.objectContaining({ action: 'request.revoked', actor: expect.objectContaining({ id: `scim-token:${scimTokenId}` }) }),
    ]);
    expect((await auditOf(pending)).filter((e) => e.action === 'request.rejected')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ id: `scim-token:${scimTokenId}` }),
        details: expect.objectContaining({ automatic: true, reason: rejected.statusReason }),
      }),
    ]);
    expect(await t.control('SELECT 1 FROM access.identity_changes')).toHaveLength(0);
    await session.client.end().catch(() => undefined);
  });

  it('removal from the group a flow rests on revokes what only that group gave; another member keeps theirs', async () => {
    const bens = await ask('ben', 'app/billing/invoices', 'READ_ONLY');
    const eves = await ask('eve', 'app/billing/invoices', 'READ_ONLY');
    const ben = await grantedSession('ben', bens);
    const eve = await grantedSession('eve', eves);

    // Okta's style: a remove with a value filter in the path.
    const removed = await scim('PATCH', `/Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${people.ben.id}"]` }],
    });
    expect(removed.status).toBe(204);

    await waitStatus(bens, 'REVOKED');
    expect(await canLogin(ben.username)).toBe(false);
    expect(await membershipsOf(ben.username)).toEqual(['latchkey_managed']);
    await waitUntil("ben's session is gone", async () => (await sessionsOf(ben.username)) === 0);
    const reason = (await auditOf(bens)).find((e) => e.action === 'request.revocation-requested')!.details.reason;
    expect(reason).toBe(
      'the requester is no longer among the requestors of flow "analysts read invoices" (removed from group analysts by the identity provider (SCIM))',
    );

    // Eve is still an analyst: her grant and her session stay.
    expect((await request(eves)).status).toBe('GRANTED');
    expect(await canLogin(eve.username)).toBe(true);
    expect((await eve.client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    // Ben, out of the group, is refused a new request.
    const again = await t.api('POST', '/api/v1/access-requests', {
      token: people.ben.token,
      body: { items: [{ resourceId: tables['app/billing/invoices'], permission: 'READ_ONLY' }], durationMinutes: 30 },
    });
    expect(again.status).toBe(403);
    await eve.client.end();
  });

  it('an approver removed from the approver group can no longer approve; the others still can', async () => {
    const pending = await ask('eve', 'app/billing/payments', 'READ_WRITE');
    const before = await request(pending);
    expect(before.approverGroups[0].approverEmails).toEqual([people.carl.email, people.dora.email].sort());

    const removed = await scim('PATCH', `/Groups/${approversId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: people.carl.id }] }],
    });
    expect(removed.status).toBe(204);
    await waitUntil('approvers re-resolved', async () => (await request(pending)).approverGroups[0].approverEmails.length === 1);
    expect((await request(pending)).approverGroups[0].approverEmails).toEqual([people.dora.email]);
    const carlTries = await t.api('POST', `/api/v1/access-requests/${pending}/approve`, { token: people.carl.token, body: { reason: 'ok' } });
    expect(carlTries.status).toBe(404);
    const changed = (await auditOf(pending)).filter((e) => e.action === 'request.approvers-changed');
    expect(changed).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ id: `scim-token:${scimTokenId}` }),
        details: expect.objectContaining({
          approversRemoved: [people.carl.email],
          approversAdded: [],
          reason: 'removed from group approvers by the identity provider (SCIM)',
        }),
      }),
    ]);

    const doraApproves = await t.api('POST', `/api/v1/access-requests/${pending}/approve`, { token: people.dora.token, body: { reason: 'ok' } });
    expect(doraApproves.status).toBe(200);
    await waitStatus(pending, 'GRANTED');
  });

  it("an admin deactivating a person (the console's People page) takes back their grants the same way", async () => {
    const email = `fay-${randomBytes(3).toString('hex')}@example.com`;
    const user = await t.api('POST', '/api/v1/users', { body: { email, name: 'Fay', groups: ['analysts'] } });
    expect(user.status).toBe(201);
    const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: 'fay e2e' } });
    people.fay = { id: user.body.id, email, token: token.body.token };
    const granted = await ask('fay', 'app/billing/invoices', 'READ_ONLY');
    const session = await grantedSession('fay', granted);

    const deactivated = await t.api('POST', `/api/v1/users/${people.fay.id}/deactivate`);
    expect([deactivated.status, deactivated.body.active]).toEqual([200, false]);
    await waitStatus(granted, 'REVOKED');
    expect(await canLogin(session.username)).toBe(false);
    await waitUntil("fay's session is gone", async () => (await sessionsOf(session.username)) === 0);
    expect(await loginRefused(session.username, session.password)).toBe(true);
    const reason = (await auditOf(granted)).find((e) => e.action === 'request.revocation-requested')!.details.reason;
    expect(reason).toBe('the requester was deactivated (user deactivated by an admin)');
    await session.client.end().catch(() => undefined);
  });

  it('deleting the person revokes their grants the same way', async () => {
    const eves = (await t.api('GET', `/api/v1/access-requests?requesterId=${people.eve.id}&status=GRANTED`)).body.items.map((r: any) => r.id);
    expect(eves.length).toBe(2);
    expect((await scim('DELETE', `/Users/${people.eve.id}`)).status).toBe(204);
    for (const id of eves) {
      const r = await waitStatus(id, 'REVOKED');
      expect(r.revokedBy).toMatchObject({ id: `scim-token:${scimTokenId}` });
    }
    const reasons = await t.control<{ reason: string }>(
      "SELECT details->>'reason' AS reason FROM access.audit_log WHERE action = 'request.revocation-requested' AND target_id = ANY($1)",
      [eves],
    );
    expect(reasons.map((r) => r.reason)).toEqual([
      'the requester was deleted (deleted by the identity provider (SCIM))',
      'the requester was deleted (deleted by the identity provider (SCIM))',
    ]);
    const logins = await pg.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'lk_%' AND rolcanlogin");
    expect(logins).toEqual([]);
    expect((await t.api('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
  });
});
