import { createUser, startTestStack, STARTUP_TIMEOUT_MS, TestStack } from '@latchkey/testing';

// Only the gateway and access: the gateway authenticates every call through the access service.
describe('users, groups and API tokens through the gateway', () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({ services: ['api-gateway', 'access'] });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
  });

  it('knows the bootstrap admin from LATCHKEY_ADMIN_TOKEN', async () => {
    const me = await t.api('GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: 'admin@latchkey.local', role: 'admin' });
  });

  it('creates users and groups; a user token works, and shows who it is', async () => {
    const group = await t.api('POST', '/api/v1/groups', { body: { name: 'dba', description: 'Database administrators' } });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ name: 'dba', members: 0 });
    expect((await t.api('POST', '/api/v1/groups', { body: { name: 'DBA' } })).status).toBe(409);

    const { user, token } = await createUser(t, { email: 'Ana@Example.com', groups: ['dba', 'payments'], attributes: { team: 'payments' } });
    expect(user).toMatchObject({ email: 'ana@example.com', groups: ['dba', 'payments'], attributes: { team: 'payments' }, role: 'user' });
    const me = await t.api('GET', '/api/v1/me', { token });
    expect(me.body).toEqual(user);

    const dup = await t.api('POST', '/api/v1/users', { body: { email: 'ANA@example.com', name: 'Other' } });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain('ana@example.com');

    const groups = await t.api('GET', '/api/v1/groups');
    expect(groups.body.items.map((g: { name: string; members: number }) => [g.name, g.members]).sort()).toEqual([
      ['dba', 1],
      ['payments', 1],
    ]);
    const listed = await t.api('GET', '/api/v1/users?group=payments');
    expect(listed.body.items.map((u: { id: string }) => u.id)).toEqual([user.id]);
    expect((await t.api('GET', `/api/v1/users/${user.id}`)).body).toEqual(user);
  });

  it('names the field and the rule of bad input, and answers 404 for unknown ids', async () => {
    const bad = await t.api('POST', '/api/v1/users', {
      body: { email: 'not-an-email', name: '', groups: ['no spaces'], attributes: { '1bad': 'x' }, role: 'root' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['attributes.1bad', 'email', 'groups.0', 'name', 'role']);
    expect((await t.api('GET', '/api/v1/users/not-a-uuid')).body.details.issues).toEqual([{ field: 'id', rule: 'must be a UUID' }]);
    expect((await t.api('GET', '/api/v1/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await t.api('POST', '/api/v1/tokens', { body: { name: 'x', expiresInDays: 0 } })).body.details.issues).toEqual([
      { field: 'expiresInDays', rule: 'must be at least 1' },
    ]);
  });

  it("lets people manage their own tokens only; admins manage anyone's", async () => {
    const ana = await createUser(t);
    const bo = await createUser(t);

    expect((await t.api('POST', '/api/v1/users', { token: ana.token, body: { email: 'x@example.com', name: 'X' } })).status).toBe(403);
    expect((await t.api('GET', '/api/v1/users', { token: ana.token })).status).toBe(403);

    const own = await t.api('POST', '/api/v1/tokens', { token: ana.token, body: { name: 'ci', expiresInDays: 7 } });
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ userId: ana.user.id, name: 'ci', revokedAt: null });
    expect(own.body.token).toMatch(/^lk_/);
    expect((await t.api('GET', '/api/v1/me', { token: own.body.token })).body.id).toBe(ana.user.id);

    const listed = await t.api('GET', '/api/v1/tokens', { token: ana.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.every((tk: { userId: string }) => tk.userId === ana.user.id)).toBe(true);
    expect(listed.body.items).toHaveLength(2);
    expect(JSON.stringify(listed.body)).not.toContain(own.body.token);

    expect((await t.api('POST', '/api/v1/tokens', { token: ana.token, body: { name: 'theirs', userId: bo.user.id } })).status).toBe(403);
    expect((await t.api('GET', `/api/v1/tokens?userId=${bo.user.id}`, { token: ana.token })).status).toBe(403);
    const bos = (await t.api('GET', `/api/v1/tokens?userId=${bo.user.id}`)).body.items;
    expect(bos).toHaveLength(1);
    expect((await t.api('POST', `/api/v1/tokens/${bos[0].id}/revoke`, { token: ana.token })).status).toBe(403);

    // Revoked: 401 at once through this gateway.
    const revoked = await t.api('POST', `/api/v1/tokens/${own.body.id}/revoke`, { token: ana.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const refused = await t.api('GET', '/api/v1/me', { token: own.body.token });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNAUTHENTICATED');

    // An admin revokes anyone's.
    expect((await t.api('POST', `/api/v1/tokens/${bos[0].id}/revoke`)).status).toBe(200);
    expect((await t.api('GET', '/api/v1/me', { token: bo.token })).status).toBe(401);
  });

  it('refuses expired tokens and the tokens of deleted users', async () => {
    const ana = await createUser(t);
    const short = await t.api('POST', '/api/v1/tokens', { token: ana.token, body: { name: 'short', expiresInDays: 1 } });
    await t.control("UPDATE access.api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [short.body.id]);
    expect((await t.api('GET', '/api/v1/me', { token: short.body.token })).status).toBe(401);

    expect((await t.api('GET', '/api/v1/me', { token: ana.token })).status).toBe(200);
    expect((await t.api('DELETE', `/api/v1/users/${ana.user.id}`)).status).toBe(200);
    expect((await t.api('GET', '/api/v1/me', { token: ana.token })).status).toBe(401);
    expect((await t.api('GET', `/api/v1/users/${ana.user.id}`)).status).toBe(404);
  });

  it('promotes and demotes at once, and keeps the last admin', async () => {
    const ana = await createUser(t);
    const me = (await t.api('GET', '/api/v1/me')).body;
    expect((await t.api('GET', '/api/v1/users', { token: ana.token })).status).toBe(403);
    const promoted = await t.api('PUT', `/api/v1/users/${ana.user.id}`, { body: { email: ana.user.email, name: 'Ana', role: 'admin' } });
    expect(promoted.body.role).toBe('admin');
    expect((await t.api('GET', '/api/v1/users', { token: ana.token })).status).toBe(200);
    // Ana, now admin, demotes the bootstrap admin; then she cannot demote herself.
    expect((await t.api('PUT', `/api/v1/users/${me.id}`, { token: ana.token, body: { email: me.email, name: me.name, role: 'user' } })).status).toBe(200);
    expect((await t.api('GET', '/api/v1/users')).status).toBe(403);
    const last = await t.api('PUT', `/api/v1/users/${ana.user.id}`, { token: ana.token, body: { email: ana.user.email, name: 'Ana', role: 'user' } });
    expect(last.status).toBe(409);
    expect(last.body.details.issues).toEqual([{ field: 'role', rule: 'at least one admin must remain' }]);
    await t.api('PUT', `/api/v1/users/${me.id}`, { token: ana.token, body: { email: me.email, name: me.name, role: 'admin' } });
    expect((await t.api('GET', '/api/v1/users')).status).toBe(200);
  });

  it('audits every change with its actor, never a token', async () => {
    const rows = await t.control<{ action: string; actor: { id: string }; text: string }>(
      'SELECT action, actor, row_to_json(a)::text AS text FROM access.audit_log a ORDER BY queued',
    );
    const actions = new Set(rows.map((r) => r.action));
    for (const action of ['user.created', 'user.updated', 'user.deleted', 'group.created', 'token.created', 'token.revoked']) expect(actions).toContain(action);
    const log = rows.map((r) => r.text).join('\n');
    expect(log).not.toContain(t.adminToken);
    expect(log).not.toMatch(/lk_[A-Za-z0-9_-]{43}/);
    const hashes = await t.control<{ token_hash: string }>('SELECT token_hash FROM access.api_tokens');
    for (const { token_hash } of hashes) expect(log).not.toContain(token_hash);
    // Neither does any answer hold a token but the one that created it, nor any log line.
    expect(t.stack.output()).not.toContain(t.adminToken);
    expect(t.stack.output()).not.toMatch(/lk_[A-Za-z0-9_-]{43}/);
  });

  it('answers 503, not 500, while the access service is down', async () => {
    await t.stack.stopProcess('access');
    // A token the gateway has not seen: it must ask the access service.
    const res = await t.api('GET', '/api/v1/me', { token: 'lk_never-seen-before-token-value' });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
  });
});
