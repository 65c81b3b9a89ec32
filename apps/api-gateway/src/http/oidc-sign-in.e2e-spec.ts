import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { createUser, freePort, oidcHttpBrowser as browser, startOidcProvider, startTestStack, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { OidcTestAccounts, OidcTestProvider, TestStack } from '@latchkey/testing';

const CALLBACK_PATH = '/api/v1/auth/oidc/callback';
const ADMIN_PASSWORD = 'break-glass admin password';

const sessionOf = async (t: TestStack, session: string) =>
  t.api('GET', '/api/v1/auth/session', { token: null, headers: { cookie: `latchkey_session=${session}` } });

describe('single sign-on with OpenID Connect', () => {
  let t: TestStack;
  let idp: OidcTestProvider;
  const accounts: OidcTestAccounts = {
    'okta-ada': { email: 'Ada@Example.com', email_verified: true, name: 'Ada Lovelace', groups: ['analysts', 'dba'], department: 'research' },
    'okta-bob': { email: 'bob@example.com', email_verified: true, name: 'Bob', groups: ['Data Analysts', 'analysts'] },
    'okta-unverified': { email: 'eve@example.com', email_verified: false, name: 'Eve', groups: ['admins'] },
  };

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({ redirectUri: `${publicUrl}${CALLBACK_PATH}`, accounts });
    t = await startTestStack({
      services: ['api-gateway', 'access'],
      env: {
        PORT: String(port),
        LATCHKEY_PUBLIC_URL: publicUrl,
        OIDC_ISSUER_URL: idp.issuer,
        OIDC_CLIENT_ID: idp.clientId,
        OIDC_CLIENT_SECRET: idp.clientSecret,
        OIDC_SCOPES: 'openid email profile groups',
        OIDC_PROVIDER_NAME: 'Okta',
        AUTH_REQUIRE_SSO: 'true',
      },
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await idp?.stop();
  }, STARTUP_TIMEOUT_MS);

  it('offers the provider beside email and password', async () => {
    const res = await t.api('GET', '/api/v1/auth/providers', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      providers: [
        { id: 'local', name: 'Email and password' },
        { id: 'oidc', name: 'Okta', startUrl: '/api/v1/auth/oidc/start' },
      ],
    });
  });

  it('sends the browser to the provider with PKCE (S256), state and nonce, sealed in a short-lived HttpOnly cookie', async () => {
    const b = browser();
    const start = await b.go(`${t.url}/api/v1/auth/oidc/start`);
    expect(start.status).toBe(302);
    const url = new URL(start.location!);
    expect(url.origin).toBe(idp.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: idp.clientId,
      response_type: 'code',
      redirect_uri: `${t.url}${CALLBACK_PATH}`,
      scope: 'openid email profile groups',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.any(String),
      nonce: expect.any(String),
    });
    expect(url.searchParams.get('client_secret')).toBeNull();
    const cookie = start.res.headers.getSetCookie().find((c) => c.startsWith('latchkey_oidc='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\/api\/v1\/auth\/oidc/);
    expect(cookie).toMatch(/; Max-Age=600/);
    // Sealed: neither the state, the nonce nor the verifier can be read from it.
    expect(cookie).not.toContain(url.searchParams.get('state')!);
    expect(cookie).not.toContain(url.searchParams.get('nonce')!);
  });

  it('creates the user at first sign-in with the groups and claims the provider sent, and opens a session like a password sign-in', async () => {
    const b = browser();
    const done = await b.signIn(t.url, 'okta-ada');
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${t.url}/requests`);
    expect(done.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = done.res.headers.getSetCookie().find((c) => c.startsWith('latchkey_session='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    // The flow cookie is spent.
    expect(b.jar.get(t.url, 'latchkey_oidc')).toBeUndefined();

    const session = await sessionOf(t, done.session!);
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', role: 'user', groups: ['analysts', 'dba'] });
    const me = await t.api('GET', '/api/v1/me', { token: null, headers: { cookie: `latchkey_session=${done.session}` } });
    expect(me.body).toMatchObject({ email: 'ada@example.com', groups: ['analysts', 'dba'] });

    const users = await t.api('GET', '/api/v1/users?q=ada');
    expect(users.body.items).toHaveLength(1);
    expect(users.body.items[0].attributes).toMatchObject({ department: 'research' });
    const links = await t.control<{ issuer: string; subject: string }>('SELECT issuer, subject FROM access.sso_identities WHERE user_id = $1', [
      session.body.user.id,
    ]);
    expect(links).toEqual([{ issuer: idp.issuer, subject: 'okta-ada' }]);

    const audit = await t.control<{ action: string; details: any }>(
      "SELECT action, details FROM access.audit_log WHERE target_id = $1 AND action IN ('user.created', 'auth.signed-in') ORDER BY queued",
      [session.body.user.id],
    );
    expect(audit.map((a) => a.action)).toEqual(['user.created', 'auth.signed-in']);
    expect(audit[0].details).toMatchObject({ via: 'oidc', justInTime: true, issuer: idp.issuer });
    expect(audit[1].details).toMatchObject({ method: 'oidc', issuer: idp.issuer });
  });

  it('refreshes the groups at the next sign-in, and links to the same user', async () => {
    idp.setAccounts({ ...accounts, 'okta-ada': { ...accounts['okta-ada'], name: 'Ada King', groups: ['analysts', 'oncall'] } });
    const done = await browser().signIn(t.url, 'okta-ada');
    expect(done.status).toBe(303);
    const session = await sessionOf(t, done.session!);
    expect(session.body.user).toMatchObject({ email: 'ada@example.com', name: 'Ada King', groups: ['analysts', 'oncall'] });
    const users = await t.api('GET', '/api/v1/users?q=ada');
    expect(users.body.items).toHaveLength(1);
    const updated = await t.control<{ diff: any; details: any }>(
      "SELECT diff, details FROM access.audit_log WHERE action = 'user.updated' AND target_id = $1",
      [session.body.user.id],
    );
    expect(updated).toHaveLength(1);
    expect(updated[0].diff.groups).toEqual({ before: ['analysts', 'dba'], after: ['analysts', 'oncall'] });
    expect(updated[0].details).toMatchObject({ via: 'oidc' });
    // The groups the flows match on are the provider's.
    const inOncall = await t.api('GET', '/api/v1/users?group=oncall');
    expect(inOncall.body.items.map((u: any) => u.email)).toEqual(['ada@example.com']);
  });

  it('signs an existing user in as themselves (matched by email) and leaves out group names Latchkey cannot hold', async () => {
    const { user } = await createUser(t, { email: 'bob@example.com', groups: ['finance'] });
    const done = await browser().signIn(t.url, 'okta-bob');
    expect(done.status).toBe(303);
    const session = await sessionOf(t, done.session!);
    expect(session.body.user).toMatchObject({ id: user.id, email: 'bob@example.com', groups: ['analysts'] });
    const signedIn = await t.control<{ details: any }>("SELECT details FROM access.audit_log WHERE action = 'user.updated' AND target_id = $1", [user.id]);
    expect(signedIn[0].details).toMatchObject({ via: 'oidc', ignoredGroups: ['Data Analysts'] });
  });

  it('refuses an email the provider has not verified', async () => {
    const done = await browser().signIn(t.url, 'okta-unverified');
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${t.url}/sign-in?error=OIDC_REFUSED`);
    expect(done.session).toBeUndefined();
    expect(await t.control("SELECT 1 FROM access.users WHERE email = 'eve@example.com'")).toHaveLength(0);
  });

  it('refuses a callback whose state was changed, without a session', async () => {
    const b = browser();
    const { callbackUrl } = await b.toCallback(t.url, 'okta-ada');
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'forged-state');
    const done = await b.go(forged.href);
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${t.url}/sign-in?error=OIDC_REFUSED`);
    expect(b.jar.get(t.url, 'latchkey_session')).toBeUndefined();
    // The flow is spent by the failed try: the genuine answer no longer works either.
    const genuine = await b.go(callbackUrl);
    expect(genuine.location).toBe(`${t.url}/sign-in?error=OIDC_FLOW_INVALID`);
    expect(b.jar.get(t.url, 'latchkey_session')).toBeUndefined();
  });

  it('refuses a callback from another browser (no flow cookie) or with a tampered flow cookie', async () => {
    const victim = browser();
    const { callbackUrl } = await victim.toCallback(t.url, 'okta-ada');
    const attacker = browser();
    const noCookie = await attacker.go(callbackUrl);
    expect(noCookie.location).toBe(`${t.url}/sign-in?error=OIDC_FLOW_INVALID`);
    expect(attacker.jar.get(t.url, 'latchkey_session')).toBeUndefined();

    const sealed = victim.jar.get(t.url, 'latchkey_oidc')!;
    const flipped = sealed.slice(0, 40) + (sealed[40] === 'A' ? 'B' : 'A') + sealed.slice(41);
    victim.jar.set(t.url, 'latchkey_oidc', flipped);
    const tampered = await victim.go(callbackUrl);
    expect(tampered.location).toBe(`${t.url}/sign-in?error=OIDC_FLOW_INVALID`);
    expect(victim.jar.get(t.url, 'latchkey_session')).toBeUndefined();
  });

  it('refuses an ID token whose nonce is not the one this browser was given', async () => {
    const b = browser();
    const { callbackUrl } = await b.toCallback(t.url, 'okta-ada', (authorization) => authorization.searchParams.set('nonce', 'a-nonce-from-elsewhere'));
    const done = await b.go(callbackUrl);
    expect(done.location).toBe(`${t.url}/sign-in?error=OIDC_REFUSED`);
    expect(b.jar.get(t.url, 'latchkey_session')).toBeUndefined();
    expect(t.stack.output('api-gateway')).toMatch(/"code":"OAUTH_JWT_CLAIM_COMPARISON_FAILED"[^}]*"claim":"nonce"[^}]*"msg":"OIDC sign-in refused"/);
  });

  it('turns an error from the provider into a refusal', async () => {
    const b = browser();
    const { callbackUrl } = await b.toCallback(t.url, 'okta-ada');
    const state = new URL(callbackUrl).searchParams.get('state')!;
    const done = await b.go(`${t.url}${CALLBACK_PATH}?error=access_denied&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(idp.issuer)}`);
    expect(done.location).toBe(`${t.url}/sign-in?error=OIDC_PROVIDER_ERROR`);
    expect(b.jar.get(t.url, 'latchkey_session')).toBeUndefined();
  });

  it('with AUTH_REQUIRE_SSO, refuses passwords to everyone but the break-glass admin', async () => {
    const bus = new MessageBus(t.natsUrl, 'oidc-e2e', 10_000);
    await bus.connect();
    const link = await bus.request(Contracts.accessPasswordLinksBootstrap, {}).finally(() => bus.close());
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: link!.token, password: ADMIN_PASSWORD } })).status).toBe(204);
    const admin = await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'admin@latchkey.local', password: ADMIN_PASSWORD } });
    expect(admin.status).toBe(200);

    const someone = await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'ada@example.com', password: 'whatever it may be' } });
    expect(someone.status).toBe(403);
    expect(someone.body).toMatchObject({ code: 'SSO_REQUIRED' });
    const audit = await t.control<{ details: any }>(
      "SELECT details FROM access.audit_log WHERE action = 'auth.sign-in-failed' AND actor->>'email' = 'ada@example.com'",
    );
    expect(audit[0].details.reason).toMatch(/AUTH_REQUIRE_SSO/);
  });

  it('never writes the client secret in a log', () => {
    expect(t.stack.output()).not.toContain(idp.clientSecret);
  });
});
