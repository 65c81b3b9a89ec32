import { createUser, freePort, oidcHttpBrowser, startOidcProvider, startTestStack, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { OidcTestProvider, TestStack } from '@latchkey/testing';

/**
 * Single sign-on set by an admin through the API (no OIDC_* variables at all): validated, the
 * client secret sealed under the master key and never answered back, taking effect at once for
 * the sign-in page and the whole flow against a real OpenID Provider on loopback; a change
 * without the secret keeps it; the rules (require SSO, just-in-time accounts) follow the settings;
 * deleting them turns single sign-on off. ID tokens that expired or are signed with a key the
 * provider never published are refused with a clear code. Everything is audited without the secret.
 */
describe('single sign-on set by an admin', () => {
  let t: TestStack;
  let idp: OidcTestProvider;
  let settings: () => Record<string, unknown>;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
      accounts: {
        'okta-ada': { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: ['analysts'] },
        'okta-new': { email: 'new@example.com', email_verified: true, name: 'New Person', groups: ['analysts'] },
        'okta-late': { email: 'late@example.com', email_verified: true, name: 'Late', idToken: 'expired' },
        'okta-forged': { email: 'forged@example.com', email_verified: true, name: 'Forged', idToken: 'foreign-key' },
      },
    });
    settings = () => ({
      issuerUrl: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      providerName: 'Okta',
      scopes: 'openid email profile groups',
    });
    t = await startTestStack({ services: ['api-gateway', 'access'], env: { PORT: String(port), LATCHKEY_PUBLIC_URL: publicUrl } });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await idp?.stop();
  }, STARTUP_TIMEOUT_MS);

  it('starts with none, and tells the admin the redirect URI to register', async () => {
    const res = await t.api('GET', '/api/v1/settings/sso');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      source: 'none',
      issuerUrl: null,
      clientId: null,
      clientSecretSet: false,
      providerName: 'single sign-on',
      groupsClaim: 'groups',
      scopes: 'openid email profile',
      requireSso: false,
      justInTime: true,
      redirectUri: `${t.url}/api/v1/auth/oidc/callback`,
      updatedAt: null,
      updatedBy: null,
    });
    expect((await t.api('GET', '/api/v1/auth/providers', { token: null })).body.providers).toEqual([{ id: 'local', name: 'Email and password' }]);
    expect((await t.api('GET', '/api/v1/auth/oidc/start', { token: null })).status).toBe(404);
  });

  it('refuses bad settings naming each field, a first save without a secret, and people who are not admins', async () => {
    const bad = await t.api('PUT', '/api/v1/settings/sso', {
      body: { issuerUrl: 'ftp://idp', clientId: '', clientSecret: 'short', scopes: 'openid  email', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.issues).toEqual(
      expect.arrayContaining([
        { field: 'issuerUrl', rule: 'must be an http(s) URL' },
        { field: 'clientId', rule: 'must not be empty' },
        { field: 'clientSecret', rule: 'must be at least 8 characters' },
        { field: 'scopes', rule: 'must be scopes separated by single spaces' },
        { field: 'extra', rule: 'is not a known field' },
      ]),
    );
    const { clientSecret: _secret, ...withoutSecret } = settings();
    const first = await t.api('PUT', '/api/v1/settings/sso', { body: withoutSecret });
    expect(first.status).toBe(400);
    expect(first.body.details.issues).toEqual([{ field: 'clientSecret', rule: 'is required the first time single sign-on is saved' }]);
    const { token } = await createUser(t, { email: 'not-admin@example.com' });
    expect((await t.api('PUT', '/api/v1/settings/sso', { token, body: settings() })).status).toBe(403);
    expect((await t.api('GET', '/api/v1/settings/sso', { token })).status).toBe(403);
  });

  it('saves them with the secret sealed, never answered, and signs people in with them at once', async () => {
    const saved = await t.api('PUT', '/api/v1/settings/sso', { body: settings() });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      source: 'settings',
      issuerUrl: idp.issuer,
      clientId: idp.clientId,
      clientSecretSet: true,
      providerName: 'Okta',
      updatedBy: 'admin@latchkey.local',
    });
    expect(saved.text).not.toContain(idp.clientSecret);
    expect((await t.api('GET', '/api/v1/settings/sso')).text).not.toContain(idp.clientSecret);

    // At rest: an envelope under the master key, not the secret.
    const [row] = await t.control<{ client_secret: Record<string, unknown>; raw: string }>(
      'SELECT client_secret, client_secret::text AS raw FROM access.sso_settings',
    );
    expect(Object.keys(row.client_secret).sort()).toEqual(['alg', 'ciphertext', 'iv', 'kid', 'tag', 'v', 'wrappedKey']);
    expect(row.raw).not.toContain(idp.clientSecret);

    expect((await t.api('GET', '/api/v1/auth/providers', { token: null })).body.providers).toEqual([
      { id: 'local', name: 'Email and password' },
      { id: 'oidc', name: 'Okta', startUrl: '/api/v1/auth/oidc/start' },
    ]);
    const b = oidcHttpBrowser();
    const done = await b.signIn(t.url, 'okta-ada');
    expect(done.location).toBe(`${t.url}/requests`);
    const me = await t.api('GET', '/api/v1/me', { token: null, headers: { cookie: `latchkey_session=${done.session}` } });
    expect(me.body).toMatchObject({ email: 'ada@example.com', groups: ['analysts'] });
  });

  it('keeps the stored secret when a change leaves it out, and audits the change without it', async () => {
    const { clientSecret: _secret, ...withoutSecret } = settings();
    const renamed = await t.api('PUT', '/api/v1/settings/sso', { body: { ...withoutSecret, providerName: 'Okta Workforce' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ providerName: 'Okta Workforce', clientSecretSet: true });
    expect((await t.api('GET', '/api/v1/auth/providers', { token: null })).body.providers[1]).toEqual({
      id: 'oidc',
      name: 'Okta Workforce',
      startUrl: '/api/v1/auth/oidc/start',
    });
    expect((await oidcHttpBrowser().signIn(t.url, 'okta-ada')).location).toBe(`${t.url}/requests`);

    const audit = await t.api('GET', '/api/v1/audit?action=sso-settings.updated&pageSize=10');
    expect(audit.body.items.map((e: { details: Record<string, unknown> }) => e.details.clientSecretChanged).sort()).toEqual([false, true]);
    const change = audit.body.items.find((e: { details: Record<string, unknown> }) => e.details.clientSecretChanged === false);
    expect(change).toMatchObject({
      actor: { type: 'user', email: 'admin@latchkey.local' },
      targetType: 'sso-settings',
      diff: { providerName: { before: 'Okta', after: 'Okta Workforce' } },
    });
    expect(audit.text).not.toContain(idp.clientSecret);
  });

  it('refuses an ID token that expired and one signed with a key the provider never published', async () => {
    for (const account of ['okta-late', 'okta-forged']) {
      const b = oidcHttpBrowser();
      const done = await b.signIn(t.url, account);
      expect(done.location).toBe(`${t.url}/sign-in?error=OIDC_REFUSED`);
      expect(done.session).toBeUndefined();
    }
    expect(await t.control("SELECT email FROM access.users WHERE email IN ('late@example.com', 'forged@example.com')")).toEqual([]);
    // The log says which check failed: the expiry claim, and the signature.
    const log = t.stack.output('api-gateway');
    expect(log).toMatch(/"claim":"exp"[^}]*"msg":"OIDC sign-in refused"/);
    expect(log).toMatch(/"detail":"JWT signature verification failed"[^}]*"msg":"OIDC sign-in refused"/);
  });

  it('applies the saved sign-in rules: SSO required for all but the break-glass admin, no just-in-time accounts', async () => {
    const { user } = await createUser(t, { email: 'pat@example.com' });
    const res = await t.api('PUT', '/api/v1/settings/sso', { body: { ...settings(), requireSso: true, justInTime: false } });
    expect(res.body).toMatchObject({ requireSso: true, justInTime: false });
    const password = await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'pat@example.com', password: 'whatever it may be' } });
    expect(password.status).toBe(403);
    expect(password.body.code).toBe('SSO_REQUIRED');
    expect(user.email).toBe('pat@example.com');
    const unknown = await oidcHttpBrowser().signIn(t.url, 'okta-new');
    expect(unknown.location).toBe(`${t.url}/sign-in?error=OIDC_NO_ACCOUNT`);
    expect(await t.control("SELECT 1 FROM access.users WHERE email = 'new@example.com'")).toHaveLength(0);
  });

  it('turns single sign-on off when the settings are deleted (audited)', async () => {
    const res = await t.api('DELETE', '/api/v1/settings/sso');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'none', clientSecretSet: false, requireSso: false, justInTime: true });
    expect((await t.api('GET', '/api/v1/auth/providers', { token: null })).body.providers).toEqual([{ id: 'local', name: 'Email and password' }]);
    expect((await t.api('GET', '/api/v1/auth/oidc/start', { token: null })).status).toBe(404);
    const audit = await t.api('GET', '/api/v1/audit?action=sso-settings.deleted&pageSize=1');
    expect(audit.body.items[0]).toMatchObject({ action: 'sso-settings.deleted', actor: { email: 'admin@latchkey.local' } });
  });

  it('never writes the client secret in a log', () => {
    expect(t.stack.output()).not.toContain(idp.clientSecret);
  });
});
