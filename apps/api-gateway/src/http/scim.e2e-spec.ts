import { createUser, startTestStack, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { TestStack } from '@latchkey/testing';

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** An IdP's SCIM client: JSON in application/scim+json, its bearer token. */
function scimClient(t: TestStack, token: string | null) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/scim/v2${path}`, {
      method,
      headers: {
        accept: 'application/scim+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
}

const tokenOf = (url: string) => decodeURIComponent(new URL(url).hash.replace(/^#token=/, ''));

describe('SCIM 2.0 provisioning', () => {
  let t: TestStack;
  let scimToken: string;
  let scimTokenId: string;
  let scim: ReturnType<typeof scimClient>;
  let adaId: string;
  let groupId: string;

  beforeAll(async () => {
    t = await startTestStack({ services: ['api-gateway', 'access'] });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
  }, STARTUP_TIMEOUT_MS);

  it('lets admins make a SCIM token, shown once, and nobody else', async () => {
    const { token: userToken } = await createUser(t);
    expect((await t.api('POST', '/api/v1/scim-tokens', { token: userToken, body: { name: 'okta' } })).status).toBe(403);
    expect((await t.api('POST', '/api/v1/scim-tokens', { body: { name: '' } })).body.details.issues).toEqual([{ field: 'name', rule: 'must not be empty' }]);

    const created = await t.api('POST', '/api/v1/scim-tokens', { body: { name: 'okta' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({ name: 'okta', token: expect.stringMatching(/^lks_[A-Za-z0-9_-]{43}$/), revokedAt: null });
    scimToken = created.body.token;
    scimTokenId = created.body.id;
    scim = scimClient(t, scimToken);

    const list = await t.api('GET', '/api/v1/scim-tokens');
    expect(list.body.items).toEqual([expect.objectContaining({ id: scimTokenId, name: 'okta' })]);
    expect(list.text).not.toContain(scimToken);
    const stored = await t.control<{ token_hash: string }>('SELECT token_hash FROM access.scim_tokens');
    expect(stored[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    const audit = await t.control("SELECT 1 FROM access.audit_log WHERE action = 'scim-token.created' AND target_id = $1", [scimTokenId]);
    expect(audit).toHaveLength(1);
  });

  it("answers 401 in the SCIM error schema without a SCIM token, or with a person's API token", async () => {
    for (const token of [null, 'lks_not-a-real-token', t.adminToken]) {
      const res = await scimClient(t, token)('GET', '/Users');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(res.body).toMatchObject({ schemas: [SCIM_ERROR], status: '401' });
    }
  });

  it('describes itself: ServiceProviderConfig, ResourceTypes, Schemas', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      bulk: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: any) => r.endpoint)).toEqual(['/Users', '/Groups']);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((r: any) => r.id)).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group']);
  });

  it("follows Okta's user sequence: look up by userName, create, read, refuse a duplicate, replace", async () => {
    const missing = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ada@example.com"')}&startIndex=1&count=100`);
    expect(missing.status).toBe(200);
    expect(missing.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] });

    const okta = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'Ada@Example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ primary: true, value: 'Ada@Example.com', type: 'work' }],
      displayName: 'Ada Lovelace',
      locale: 'en-US',
      externalId: '00u1okta',
      groups: [],
      active: true,
    };
    const created = await scim('POST', '/Users', okta);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${t.url}/scim/v2/Users/${created.body.id}`);
    expect(created.body).toMatchObject({
      userName: 'ada@example.com',
      displayName: 'Ada Lovelace',
      active: true,
      externalId: '00u1okta',
      emails: [{ value: 'ada@example.com', primary: true }],
    });
    adaId = created.body.id;
    // The same person the rest of Latchkey knows.
    expect((await t.api('GET', `/api/v1/users/${adaId}`)).body).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', role: 'user' });

    expect((await scim('GET', `/Users/${adaId}`)).body.id).toBe(adaId);
    const unknown = await scim('GET', '/Users/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ schemas: [SCIM_ERROR], status: '404' });

    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ADA@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "00u1okta"')}`)).body.Resources[0].id).toBe(adaId);

    const duplicate = await scim('POST', '/Users', okta);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ schemas: [SCIM_ERROR], status: '409', scimType: 'uniqueness' });
    const badFilter = await scim('GET', `/Users?filter=${encodeURIComponent('userName co "ada"')}`);
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.scimType).toBe('invalidFilter');
    const notEmail = await scim('POST', '/Users', { ...okta, userName: 'ada', emails: [] });
    expect(notEmail.status).toBe(400);
    expect(notEmail.body.scimType).toBe('invalidValue');

    const replaced = await scim('PUT', `/Users/${adaId}`, { ...okta, name: { givenName: 'Ada', familyName: 'King' }, displayName: 'Ada King' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.displayName).toBe('Ada King');
  });

  it('pages with startIndex and count', async () => {
    for (const n of [1, 2, 3]) expect((await scim('POST', '/Users', { userName: `page${n}@example.com` })).status).toBe(201);
    const page = await scim('GET', '/Users?startIndex=2&count=2');
    expect(page.body).toMatchObject({ startIndex: 2, itemsPerPage: 2 });
    expect(page.body.totalResults).toBeGreaterThanOrEqual(5);
  });

  it('pushes groups and their members (Okta and Entra PATCH styles), and the flows see them', async () => {
    const created = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'analysts',
      externalId: '00g1',
      members: [{ value: adaId, display: 'ada@example.com' }],
    });
    expect(created.status).toBe(201);
    groupId = created.body.id;
    expect(created.body.members).toEqual([expect.objectContaining({ value: adaId })]);
    const inGroup = async () => (await t.api('GET', '/api/v1/users?group=analysts')).body.items.map((u: any) => u.email);
    expect(await inGroup()).toEqual(['ada@example.com']);
    expect((await scim('GET', `/Users/${adaId}`)).body.groups).toEqual([expect.objectContaining({ value: groupId, display: 'analysts' })]);

    // Okta removes with a value filter in the path.
    const removed = await scim('PATCH', `/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${adaId}"]` }],
    });
    expect(removed.status).toBe(204);
    expect(await inGroup()).toEqual([]);
    // Entra: PascalCase op, members in the value.
    const added = await scim('PATCH', `/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: adaId }] }],
    });
    expect(added.status).toBe(204);
    expect(await inGroup()).toEqual(['ada@example.com']);
    // Entra removes with the members in the value too.
    await scim('PATCH', `/Groups/${groupId}`, { Operations: [{ op: 'Remove', path: 'members', value: [{ value: adaId }] }] });
    expect(await inGroup()).toEqual([]);
    await scim('PATCH', `/Groups/${groupId}`, { Operations: [{ op: 'add', path: 'members', value: [{ value: adaId }] }] });

    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Analysts"')}&excludedAttributes=members`);
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0]).not.toHaveProperty('members');
    expect((await scim('POST', '/Groups', { displayName: 'ANALYSTS' })).body.scimType).toBe('uniqueness');
    const audit = await t.control<{ details: any }>("SELECT details FROM access.audit_log WHERE action = 'group.updated' AND target_id = $1 ORDER BY queued", [
      groupId,
    ]);
    expect(audit[0].details).toMatchObject({ via: 'scim', membersRemoved: [adaId] });
    expect(audit[1].details).toMatchObject({ via: 'scim', membersAdded: [adaId] });
  });

  it('deprovisions at once when the IdP sets active false (Entra\'s "False" string): sessions end, tokens stop, password refused', async () => {
    // Ada has a password session and an API token.
    const invite = await t.api('POST', `/api/v1/users/${adaId}/invite`);
    const password = 'ada password, long enough';
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: tokenOf(invite.body.url), password } })).status).toBe(204);
    const signIn = await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'ada@example.com', password } });
    expect(signIn.status).toBe(200);
    const cookie = /latchkey_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')![1];
    const apiToken = (await t.api('POST', '/api/v1/tokens', { body: { userId: adaId, name: 'laptop' } })).body.token;
    expect((await t.api('GET', '/api/v1/me', { token: apiToken })).status).toBe(200);
    expect((await t.api('GET', '/api/v1/auth/session', { token: null, headers: { cookie: `latchkey_session=${cookie}` } })).status).toBe(200);

    const patched = await scim('PATCH', `/Users/${adaId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.active).toBe(false);

    expect((await t.api('GET', '/api/v1/me', { token: apiToken })).status).toBe(401);
    expect((await t.api('GET', '/api/v1/auth/session', { token: null, headers: { cookie: `latchkey_session=${cookie}` } })).status).toBe(401);
    const again = await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'ada@example.com', password } });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('INVALID_CREDENTIALS');
    expect(await t.control('SELECT 1 FROM access.sessions WHERE user_id = $1', [adaId])).toHaveLength(0);
    const [deactivated] = await t.control<{ actor: any; details: any; diff: any }>(
      "SELECT actor, details, diff FROM access.audit_log WHERE action = 'user.deactivated' AND target_id = $1",
      [adaId],
    );
    expect(deactivated.actor).toMatchObject({ type: 'system', id: `scim-token:${scimTokenId}` });
    expect(deactivated.details).toMatchObject({ via: 'scim', sessionsEnded: 1, revokedTokens: 1 });
    expect(deactivated.diff.active).toEqual({ before: true, after: false });

    // Okta reactivates with a PATCH without path; the person signs in again with their password.
    const back = await scim('PATCH', `/Users/${adaId}`, { Operations: [{ op: 'replace', value: { active: true } }] });
    expect(back.body.active).toBe(true);
    expect((await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'ada@example.com', password } })).status).toBe(200);
  });

  it('deletes groups and users', async () => {
    expect((await scim('DELETE', `/Groups/${groupId}`)).status).toBe(204);
    expect((await scim('GET', `/Groups/${groupId}`)).status).toBe(404);
    expect((await scim('DELETE', `/Users/${adaId}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${adaId}`)).status).toBe(404);
    expect((await t.api('GET', `/api/v1/users/${adaId}`)).status).toBe(404);
    const deleted = await t.control<{ action: string; details: any }>(
      "SELECT action, details FROM access.audit_log WHERE action IN ('group.deleted', 'user.deleted') AND target_id = ANY($1) ORDER BY queued",
      [[groupId, adaId]],
    );
    expect(deleted.map((d) => d.action)).toEqual(['group.deleted', 'user.deleted']);
    expect(deleted[1].details).toMatchObject({ via: 'scim', sessionsEnded: 1 });
  });

  it('stops answering a revoked token, and never logs a token', async () => {
    const revoked = await t.api('POST', `/api/v1/scim-tokens/${scimTokenId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(await t.control("SELECT 1 FROM access.audit_log WHERE action = 'scim-token.revoked' AND target_id = $1", [scimTokenId])).toHaveLength(1);
    expect((await scim('GET', '/Users')).status).toBe(401);
    expect(t.stack.output()).not.toContain(scimToken);
  });
});
