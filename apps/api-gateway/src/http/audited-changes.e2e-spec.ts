import { randomBytes } from 'node:crypto';
import { PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';
import { ROUTES } from './openapi';

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const ordersRead = { resourceType: 'postgresql-table', database: 'shop', schema: 'sales', table: 'orders', permission: 'READ_ONLY' };

/**
 * Every route that changes something, with the audit entries it must write. A route added to the
 * API without a line here fails the first test: decide what it audits.
 */
const AUDITED: Record<string, string[]> = {
  'POST /api/v1/integrations': ['integration.created'],
  'PUT /api/v1/integrations/{id}': ['integration.updated'],
  'DELETE /api/v1/integrations/{id}': ['integration.deleted'],
  'POST /api/v1/integrations/{id}/test': ['integration.tested'],
  'POST /api/v1/integrations/{id}/rotate': ['rotation.rotated'],
  'POST /api/v1/integrations/{id}/refresh': ['integration.refresh-requested'],
  'PUT /api/v1/resources/{id}/tags': ['resource.tags-updated'],
  'POST /api/v1/integrations/{id}/grants': ['grant.created'],
  'POST /api/v1/integrations/{id}/grants/{grantId}/revoke': ['grant.revoked'],
  'POST /api/v1/integrations/{id}/grants/{grantId}/extend': ['grant.extended'],
  'POST /api/v1/integrations/{id}/grants/{grantId}/reset-credentials': ['grant.credentials-reset'],
  'POST /api/v1/integrations/{id}/drift/repair': ['integration.drift-repaired'],
  'POST /api/v1/access-flows': ['flow.created'],
  'PUT /api/v1/access-flows/{id}': ['flow.updated'],
  'DELETE /api/v1/access-flows/{id}': ['flow.deleted'],
  'POST /api/v1/access-requests': ['request.created'],
  'POST /api/v1/access-requests/{id}/approve': ['request.approved'],
  'POST /api/v1/access-requests/{id}/reject': ['request.rejected'],
  'POST /api/v1/access-requests/{id}/revoke': ['request.revocation-requested', 'request.revoked'],
  'POST /api/v1/access-requests/{id}/extend': ['request.extended'],
  'POST /api/v1/access-requests/{id}/reset-credentials': ['request.credentials-reset'],
  // A read that changes state: the one-time password is gone after it.
  'GET /api/v1/access-requests/{id}/access-details': ['request.credentials-viewed'],
  'POST /api/v1/users': ['user.created'],
  'PUT /api/v1/users/{id}': ['user.updated'],
  'DELETE /api/v1/users/{id}': ['user.deleted'],
  'POST /api/v1/users/{id}/deactivate': ['user.deactivated'],
  'POST /api/v1/users/{id}/reactivate': ['user.reactivated'],
  'POST /api/v1/groups': ['group.created'],
  'PUT /api/v1/groups/{id}': ['group.updated'],
  'DELETE /api/v1/groups/{id}': ['group.deleted'],
  'POST /api/v1/tokens': ['token.created'],
  'POST /api/v1/tokens/{id}/revoke': ['token.revoked'],
};

/** Routes that are POSTs but change nothing (they evaluate what a change would do). */
const CHANGES_NOTHING = new Set(['POST /api/v1/access-flows/dry-run']);

/** Sign-in routes: their entries are checked by sign-in.e2e-spec.ts, which drives a browser's session. */
const AUDITED_BY_SIGN_IN_SUITE: Record<string, string[]> = {
  'POST /api/v1/auth/sign-in': ['auth.signed-in', 'auth.sign-in-failed'],
  'POST /api/v1/auth/sign-out': ['auth.signed-out'],
  'POST /api/v1/auth/sign-out-everywhere': ['auth.signed-out-everywhere'],
  'POST /api/v1/auth/password': ['auth.password-changed'],
  'POST /api/v1/users/{id}/invite': ['user.invited'],
  'POST /api/v1/users/{id}/reset-password': ['user.password-reset'],
  // Checked by apps/cli/src/cli-sign-in.e2e-spec.ts (a browser session allows `latchkey login`).
  'POST /api/v1/auth/cli-tokens': ['token.created'],
  // Checked by apps/api-gateway/src/http/sso-settings.e2e-spec.ts.
  'PUT /api/v1/settings/sso': ['sso-settings.updated'],
  'DELETE /api/v1/settings/sso': ['sso-settings.deleted'],
};

/** Webhook routes: their entries are checked by apps/notifications/src/notifications.e2e-spec.ts. */
const AUDITED_BY_NOTIFICATIONS_SUITE: Record<string, string[]> = {
  'POST /api/v1/webhooks': ['webhook.created'],
  'PUT /api/v1/webhooks/{id}': ['webhook.updated'],
  'DELETE /api/v1/webhooks/{id}': ['webhook.deleted'],
  'POST /api/v1/webhooks/{id}/rotate-secret': ['webhook.secret-rotated'],
  'POST /api/v1/webhooks/{id}/test': ['webhook.tested'],
  'POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': ['webhook.redelivered'],
  // Checked by apps/notifications/src/reminders.e2e-spec.ts.
  'PUT /api/v1/me/notification-preferences': ['notification-preferences.updated'],
  'PUT /api/v1/notification-preferences/defaults': ['notification-defaults.updated'],
};

/** SCIM routes and SCIM tokens: their entries are checked by scim.e2e-spec.ts, which plays the identity provider. */
const AUDITED_BY_SCIM_SUITE: Record<string, string[]> = {
  'POST /api/v1/scim-tokens': ['scim-token.created'],
  'POST /api/v1/scim-tokens/{id}/revoke': ['scim-token.revoked'],
  'POST /scim/v2/Users': ['user.created'],
  'PUT /scim/v2/Users/{id}': ['user.updated', 'user.deactivated', 'user.reactivated'],
  'PATCH /scim/v2/Users/{id}': ['user.updated', 'user.deactivated', 'user.reactivated'],
  'DELETE /scim/v2/Users/{id}': ['user.deleted'],
  'POST /scim/v2/Groups': ['group.created'],
  'PUT /scim/v2/Groups/{id}': ['group.updated'],
  'PATCH /scim/v2/Groups/{id}': ['group.updated'],
  'DELETE /scim/v2/Groups/{id}': ['group.deleted'],
};

interface Entry {
  action: string;
  actor: { type: string; id: string; email?: string; impersonatedBy?: { id: string; email?: string } };
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
  diff?: Record<string, unknown>;
}

/**
 * Through the gateway against every real service: each route that changes state writes its audit
 * entry (actor, action, target), the chain stays whole, answers with a password or a new token are
 * never cached, and tokens an admin makes for someone else name that admin in every entry.
 */
describe('every change audited; secrets never cached; impersonation explicit', () => {
  let pg: PgCluster;
  let t: TestStack;
  let admin: { id: string; email: string };
  let integrationId: string;
  let ordersId: string;
  const people: Record<string, { id: string; email: string; token: string }> = {};
  const seen = new Set<string>();

  /** Waits for the entry (other services' entries travel through their outbox) and checks who and what. */
  const audited = async (action: string, targetId: string, actorId: string): Promise<Entry> => {
    const entry = await waitUntil(
      `audit ${action} of ${targetId}`,
      async () => {
        const res = await t.api('GET', `/api/v1/audit?action=${action}&targetId=${targetId}&pageSize=1`);
        return (res.body.items?.[0] as Entry | undefined) ?? null;
      },
      20_000,
    );
    expect(entry).toMatchObject({ action, targetId, actor: { type: 'user', id: actorId } });
    seen.add(action);
    return entry;
  };
  const noStore = (res: { headers: Headers; status: number }, status = 200) => {
    expect(res.status).toBe(status);
    expect({ cacheControl: res.headers.get('cache-control'), pragma: res.headers.get('pragma') }).toEqual({ cacheControl: 'no-store', pragma: 'no-cache' });
  };
  const as = (who: string) => ({ token: people[who].token });

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE shop');
    await pg.query('CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY); INSERT INTO sales.orders VALUES (1)', undefined, 'shop');
    t = await startTestStack({ env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1', REVOCATION_GRACE_SECONDS: '60' } });
    const me = await t.api('GET', '/api/v1/me');
    admin = { id: me.body.id, email: me.body.email };
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('knows the audit entries of every route that changes state', () => {
    const changing = ROUTES.filter((r) => r.method !== 'get')
      .map((r) => `${r.method.toUpperCase()} ${r.path}`)
      .filter((k) => !CHANGES_NOTHING.has(k));
    expect(
      [...Object.keys(AUDITED), ...Object.keys(AUDITED_BY_SIGN_IN_SUITE), ...Object.keys(AUDITED_BY_SCIM_SUITE), ...Object.keys(AUDITED_BY_NOTIFICATIONS_SUITE)]
        .filter((k) => !k.startsWith('GET '))
        .sort(),
    ).toEqual(changing.sort());
  });

  it('audits integration changes, tests, refreshes, rotations and tags', async () => {
    const created = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(created.body.status).toBe('ACTIVE');
    integrationId = created.body.id;
    await audited('integration.created', integrationId, admin.id);

    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/test`)).status).toBe(200);
    expect((await audited('integration.tested', integrationId, admin.id)).details).toMatchObject({ status: 'ACTIVE', failedChecks: [] });
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/refresh`)).status).toBe(202);
    await audited('integration.refresh-requested', integrationId, admin.id);
    const { secret: _secret, ...unchanged } = created.body;
    const updated = await t.api('PUT', `/api/v1/integrations/${integrationId}`, {
      body: { name: 'shop', type: 'postgresql', connectedResourceTypes: ['postgresql-table'], config: unchanged.config, customAccessDetails: 'VPN first' },
    });
    expect(updated.status).toBe(200);
    await audited('integration.updated', integrationId, admin.id);
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/rotate`)).body.result).toBe('rotated');
    await audited('rotation.rotated', integrationId, admin.id);

    ordersId = await waitUntil('orders discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&q=orders`);
      return list.body.items?.[0]?.id as string | undefined;
    });
    expect((await t.api('PUT', `/api/v1/resources/${ordersId}/tags`, { body: { tags: { owner: 'sales' } } })).status).toBe(200);
    const tags = await audited('resource.tags-updated', ordersId, admin.id);
    expect(tags).toMatchObject({ targetType: 'resource', diff: { apiTags: { before: {}, after: { owner: 'sales' } } } });
  });

  it('names the admin in tokens made for someone else and in every entry made with them; answers with a token are not cached', async () => {
    for (const [key, groups] of [
      ['ana', ['analysts']],
      ['bob', ['approvers']],
    ] as const) {
      const email = `${key}-${randomBytes(3).toString('hex')}@example.com`;
      const user = await t.api('POST', '/api/v1/users', { body: { email, name: key, groups } });
      expect(user.status).toBe(201);
      await audited('user.created', user.body.id, admin.id);
      const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: 'first' } });
      noStore(token, 201);
      expect(token.body.impersonatedBy).toEqual(admin);
      expect((await audited('token.created', token.body.id, admin.id)).details).toMatchObject({ impersonatedBy: admin });
      people[key] = { id: user.body.id, email, token: token.body.token };
    }
    const group = await t.api('POST', '/api/v1/groups', { body: { name: 'auditors' } });
    await audited('group.created', group.body.id, admin.id);
    const described = await t.api('PUT', `/api/v1/groups/${group.body.id}`, { body: { name: 'auditors', description: 'Read the audit log' } });
    expect([described.status, described.body.description]).toEqual([200, 'Read the audit log']);
    expect((await audited('group.updated', group.body.id, admin.id)).diff).toEqual({ description: { before: null, after: 'Read the audit log' } });
    // A group keeps its name: flows and approvers name it.
    const renamedGroup = await t.api('PUT', `/api/v1/groups/${group.body.id}`, { body: { name: 'checkers' } });
    expect([renamedGroup.status, renamedGroup.body.details.issues[0].field]).toEqual([400, 'name']);
    const renamed = await t.api('PUT', `/api/v1/users/${people.ana.id}`, { body: { email: people.ana.email, name: 'Ana', groups: ['analysts'] } });
    expect(renamed.status).toBe(200);
    await audited('user.updated', people.ana.id, admin.id);

    // A token made with an impersonating token is the admin's too: there is no laundering it.
    const own = await t.api('POST', '/api/v1/tokens', { ...as('ana'), body: { name: 'own' } });
    noStore(own, 201);
    expect(own.body.impersonatedBy).toEqual(admin);
    const created = await audited('token.created', own.body.id, people.ana.id);
    expect(created.actor).toEqual({ type: 'user', id: people.ana.id, email: people.ana.email, impersonatedBy: admin });
    const revoked = await t.api('POST', `/api/v1/tokens/${own.body.id}/revoke`, as('ana'));
    expect(revoked.status).toBe(200);
    expect((await audited('token.revoked', own.body.id, people.ana.id)).actor.impersonatedBy).toEqual(admin);
    // The admin's own token is not impersonating anyone, and the admin's actions include the impersonated ones.
    expect((await t.api('GET', '/api/v1/tokens?pageSize=500')).body.items.find((tk: { userId: string }) => tk.userId === admin.id).impersonatedBy).toBeNull();
    const byAdmin = await t.api('GET', `/api/v1/audit?actorId=${admin.id}&action=token.revoked`);
    expect(byAdmin.body.items.map((e: Entry) => e.targetId)).toContain(own.body.id);
  });

  it('audits flows and every step of a request, REVOKED when it gets there; details and new passwords are not cached', async () => {
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts read orders',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['approvers'] }] },
        maxDurationMinutes: 60,
        settings: { justificationRequired: false, maxExtensions: 1 },
      },
    });
    expect(flow.status).toBe(201);
    await audited('flow.created', flow.body.id, admin.id);
    const { id: _id, createdAt: _c, updatedAt: _u, ...definition } = flow.body;
    const flowBody = {
      name: definition.name,
      requestors: definition.requestors,
      targets: definition.targets,
      approvers: definition.approvers,
      maxDurationMinutes: 30,
      settings: definition.settings,
    };
    expect((await t.api('PUT', `/api/v1/access-flows/${flow.body.id}`, { body: flowBody })).status).toBe(200);
    await audited('flow.updated', flow.body.id, admin.id);

    const ask = () =>
      t.api('POST', '/api/v1/access-requests', { ...as('ana'), body: { items: [{ resourceId: ordersId, permission: 'READ_ONLY' }], durationMinutes: 10 } });
    const rejected = (await ask()).body.requests[0];
    const createdEntry = await audited('request.created', rejected.id, people.ana.id);
    expect(createdEntry.actor.impersonatedBy).toEqual(admin);
    expect((await t.api('POST', `/api/v1/access-requests/${rejected.id}/reject`, { ...as('bob'), body: {} })).status).toBe(200);
    await audited('request.rejected', rejected.id, people.bob.id);

    const granted = (await ask()).body.requests[0];
    expect((await t.api('POST', `/api/v1/access-requests/${granted.id}/approve`, { ...as('bob'), body: {} })).status).toBe(200);
    expect((await audited('request.approved', granted.id, people.bob.id)).actor.impersonatedBy).toEqual(admin);
    await waitUntil('GRANTED', async () => (await t.api('GET', `/api/v1/access-requests/${granted.id}`)).body.status === 'GRANTED');
    const details = await t.api('GET', `/api/v1/access-requests/${granted.id}/access-details`, as('ana'));
    noStore(details);
    expect(details.body.password).toEqual(expect.any(String));
    await audited('request.credentials-viewed', granted.id, people.ana.id);
    const reset = await t.api('POST', `/api/v1/access-requests/${granted.id}/reset-credentials`, as('ana'));
    noStore(reset);
    await audited('request.credentials-reset', granted.id, people.ana.id);
    expect((await t.api('POST', `/api/v1/access-requests/${granted.id}/extend`, { ...as('ana'), body: { minutes: 5 } })).status).toBe(200);
    await audited('request.extended', granted.id, people.ana.id);

    expect((await t.api('POST', `/api/v1/access-requests/${granted.id}/revoke`, { ...as('ana'), body: { reason: 'done' } })).status).toBe(200);
    expect((await audited('request.revocation-requested', granted.id, people.ana.id)).details).toMatchObject({ status: 'REVOKING', previousStatus: 'GRANTED' });
    await waitUntil('REVOKED', async () => (await t.api('GET', `/api/v1/access-requests/${granted.id}`)).body.status === 'REVOKED');
    const revoked = await audited('request.revoked', granted.id, people.ana.id);
    expect(revoked).toMatchObject({ targetType: 'access-request', details: { status: 'REVOKED', grantId: granted.grantId ?? expect.any(String) } });
    const ends = await t.api('GET', `/api/v1/audit?targetId=${granted.id}&action=request.revoked`);
    expect(ends.body.items).toHaveLength(1);

    expect((await t.api('DELETE', `/api/v1/access-flows/${flow.body.id}`)).status).toBe(200);
    await audited('flow.deleted', flow.body.id, admin.id);
  });

  it("audits an admin's direct grants: create, extend, reset, revoke, and drift repair; credentials are not cached", async () => {
    const identity = { id: `direct-${randomBytes(3).toString('hex')}`, email: 'direct@example.com' };
    const created = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, { body: { identity, items: [ordersRead], durationMinutes: 30 } });
    noStore(created, 201);
    const grantId = created.body.grant.id as string;
    const entry = await audited('grant.created', grantId, admin.id);
    expect(entry).toMatchObject({ targetType: 'grant', details: { identity, integrationId, expiresAt: created.body.grant.expiresAt } });

    const later = new Date(Date.parse(created.body.grant.expiresAt) + 600_000).toISOString();
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${grantId}/extend`, { body: { expiresAt: later } })).status).toBe(200);
    expect((await audited('grant.extended', grantId, admin.id)).details).toMatchObject({ expiresAt: { before: created.body.grant.expiresAt, after: later } });
    const reset = await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${grantId}/reset-credentials`);
    noStore(reset);
    await audited('grant.credentials-reset', grantId, admin.id);

    await pg.query(`ALTER ROLE "${created.body.grant.roleName}" NOLOGIN`);
    const repaired = await t.api('POST', `/api/v1/integrations/${integrationId}/drift/repair`);
    expect(repaired.body.missingGrants).toEqual([expect.objectContaining({ grantId, missing: ['login'] })]);
    expect((await audited('integration.drift-repaired', integrationId, admin.id)).details).toMatchObject({ restoredGrants: [grantId] });

    const revoked = await t.api('POST', `/api/v1/integrations/${integrationId}/grants/${grantId}/revoke`);
    expect(revoked.body.status).toBe('REVOKED');
    expect((await audited('grant.revoked', grantId, admin.id)).details).toMatchObject({ previousStatus: 'ACTIVE' });
    const noCache = await t.api('GET', `/api/v1/integrations/${integrationId}/grants/${grantId}`);
    expect(noCache.headers.get('cache-control')).toBeNull();
  });

  it('audits deletions, keeps the chain whole and leaves no entry behind in any outbox', async () => {
    const user = await t.api('POST', '/api/v1/users', { body: { email: `gone-${randomBytes(3).toString('hex')}@example.com`, name: 'Gone' } });
    expect((await t.api('DELETE', `/api/v1/users/${user.body.id}`)).status).toBe(200);
    await audited('user.deleted', user.body.id, admin.id);
    const doomed = await t.api('POST', '/api/v1/users', {
      body: { email: `member-${randomBytes(3).toString('hex')}@example.com`, name: 'Member', groups: ['doomed'] },
    });
    const doomedGroup = (await t.api('GET', '/api/v1/groups?pageSize=500')).body.items.find((g: { name: string }) => g.name === 'doomed');
    expect((await t.api('DELETE', `/api/v1/groups/${doomedGroup.id}`)).status).toBe(200);
    expect((await audited('group.deleted', doomedGroup.id, admin.id)).details).toEqual({ membersRemoved: [doomed.body.id] });
    expect((await t.api('GET', `/api/v1/users/${doomed.body.id}`)).body.groups).toEqual([]);
    // Deactivating ends the user's tokens (each revocation audited); reactivating gives none back.
    const paused = await t.api('POST', '/api/v1/users', { body: { email: `paused-${randomBytes(3).toString('hex')}@example.com`, name: 'Paused' } });
    const pausedToken = await t.api('POST', '/api/v1/tokens', { body: { userId: paused.body.id, name: 'script' } });
    expect((await t.api('GET', '/api/v1/me', { token: pausedToken.body.token })).status).toBe(200);
    const deactivated = await t.api('POST', `/api/v1/users/${paused.body.id}/deactivate`);
    expect([deactivated.status, deactivated.body.active]).toEqual([200, false]);
    expect((await audited('user.deactivated', paused.body.id, admin.id)).details).toMatchObject({ revokedTokens: 1 });
    expect((await t.api('GET', '/api/v1/me', { token: pausedToken.body.token })).status).toBe(401);
    const reactivated = await t.api('POST', `/api/v1/users/${paused.body.id}/reactivate`);
    expect([reactivated.status, reactivated.body.active]).toEqual([200, true]);
    await audited('user.reactivated', paused.body.id, admin.id);
    expect((await t.api('GET', '/api/v1/me', { token: pausedToken.body.token })).status).toBe(401);
    expect((await t.api('POST', `/api/v1/users/${admin.id}/deactivate`)).body).toMatchObject({
      code: expect.any(String),
      details: { issues: [{ field: 'id', rule: 'must not be the caller' }] },
    });
    const spare = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'spare',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: 'whatever' },
      },
    });
    expect((await t.api('DELETE', `/api/v1/integrations/${spare.body.id}`)).status).toBe(200);
    await audited('integration.deleted', spare.body.id, admin.id);

    expect([...seen].sort()).toEqual([...new Set(Object.values(AUDITED).flat())].sort());
    const verify = await t.api('GET', '/api/v1/audit/verify');
    expect(verify.body).toMatchObject({ ok: true, firstBroken: null });
    for (const schema of ['catalog', 'provisioning', 'discovery']) {
      await waitUntil(`${schema} outbox drained`, async () => (await t.control(`SELECT count(*)::int AS n FROM ${schema}.audit_outbox`))[0].n === 0);
    }
  });
});
