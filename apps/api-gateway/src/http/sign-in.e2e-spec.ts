import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { createUser, startTestStack, STARTUP_TIMEOUT_MS, TestStack } from '@latchkey/testing';

const ADMIN_PASSWORD = 'admin password, long enough';

interface Session {
  id: string;
  csrf: string;
  setCookie: string;
  body: any;
}

/** The browser's side: sign in, keep the cookie, call with it (and the CSRF header when asked). */
function browser(t: TestStack) {
  const signIn = async (email: string, password: string, cookie?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.url}/api/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie: `latchkey_session=${cookie}` } : {}), ...headers },
      body: JSON.stringify({ email, password }),
    });
    const text = await res.text();
    t.responses.push(text);
    const body = text ? JSON.parse(text) : null;
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('latchkey_session=')) ?? '';
    const id = /^latchkey_session=([^;]*)/.exec(setCookie)?.[1] ?? '';
    return { status: res.status, headers: res.headers, body, session: { id, csrf: body?.csrfToken, setCookie, body } as Session };
  };
  const call = (method: string, path: string, session: Pick<Session, 'id'> & { csrf?: string }, body?: unknown, headers: Record<string, string> = {}) =>
    t.api(method, path, {
      token: null,
      body,
      headers: { cookie: `latchkey_session=${session.id}`, ...(session.csrf ? { 'x-csrf-token': session.csrf } : {}), ...headers },
    });
  return { signIn, call };
}

const tokenOf = (url: string) => decodeURIComponent(new URL(url).hash.replace(/^#token=/, ''));

async function bootstrapLink(t: TestStack) {
  const bus = new MessageBus(t.natsUrl, 'sign-in-e2e', 10_000);
  await bus.connect();
  try {
    return await bus.request(Contracts.accessPasswordLinksBootstrap, {});
  } finally {
    await bus.close();
  }
}

/** A user invited by the admin, with the password set through the link. */
async function invitedUser(t: TestStack, role: 'admin' | 'user' = 'user') {
  const { user } = await createUser(t, { role });
  const invite = await t.api('POST', `/api/v1/users/${user.id}/invite`);
  expect(invite.status).toBe(201);
  const password = `password of ${user.email}`;
  expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: tokenOf(invite.body.url), password } })).status).toBe(204);
  return { user, password };
}

describe('signing in with a browser', () => {
  let t: TestStack;
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await startTestStack({ services: ['api-gateway', 'access'] });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
  });

  it('gives the bootstrap admin a one-time, short-lived link while they have no password', async () => {
    const link = await bootstrapLink(t);
    expect(link).not.toBeNull();
    expect(link!.email).toBe('admin@latchkey.local');
    expect(link!.token).toMatch(/^lkl_[A-Za-z0-9_-]{43}$/);
    const hours = (Date.parse(link!.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(0.9);
    expect(hours).toBeLessThanOrEqual(1);
    secrets.push(link!.token, ADMIN_PASSWORD);

    // Each ask replaces the earlier unused link.
    const second = (await bootstrapLink(t))!;
    secrets.push(second.token);
    const stale = await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: link!.token, password: ADMIN_PASSWORD } });
    expect(stale.status).toBe(400);
    expect(stale.body.code).toBe('LINK_INVALID');

    // The password rule names the field; the link is not spent by a refused password.
    const short = await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: second.token, password: 'too short' } });
    expect(short.status).toBe(400);
    expect(short.body.details.issues).toEqual([{ field: 'password', rule: 'must be at least 12 characters' }]);

    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: second.token, password: ADMIN_PASSWORD } })).status).toBe(204);
    const again = await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: second.token, password: ADMIN_PASSWORD } });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 'LINK_INVALID' });
    expect(await bootstrapLink(t)).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Lax session cookie and answers the user and the CSRF token, uncached', async () => {
    const { signIn } = browser(t);
    const res = await signIn('Admin@Latchkey.local', ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookie = res.session.setCookie;
    expect(res.session.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Expires=/);
    expect(cookie).not.toMatch(/Secure/); // plain http here; see the https suite below
    expect(res.body).toMatchObject({ user: { email: 'admin@latchkey.local', role: 'admin', groups: [] }, csrfToken: expect.any(String) });
    expect(Object.keys(res.body.user).sort()).toEqual(['email', 'groups', 'id', 'name', 'role']);
    const hours = (Date.parse(res.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    // Stored hashed: the database never holds the id.
    const stored = await t.control<{ session_hash: string }>('SELECT session_hash FROM access.sessions');
    expect(stored.map((s) => s.session_hash).join()).not.toContain(res.session.id);
    secrets.push(res.session.id, res.session.csrf);
  });

  it('authenticates /me and /auth/session with the cookie; bearer tokens keep working unchanged', async () => {
    const { signIn, call } = browser(t);
    const { session } = await signIn('admin@latchkey.local', ADMIN_PASSWORD);
    secrets.push(session.id, session.csrf);
    const me = await call('GET', '/api/v1/me', { id: session.id });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe('admin@latchkey.local');
    const current = await call('GET', '/api/v1/auth/session', { id: session.id });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ user: { id: me.body.id, email: 'admin@latchkey.local', role: 'admin' }, csrfToken: session.csrf });
    expect(current.headers.get('cache-control')).toBe('no-store');

    expect((await t.api('GET', '/api/v1/me')).status).toBe(200);
    expect((await t.api('GET', '/api/v1/auth/session')).status).toBe(401); // a token has no session
    expect((await t.api('GET', '/api/v1/me', { token: null })).status).toBe(401);
    expect((await t.api('GET', '/api/v1/auth/providers', { token: null })).body).toEqual({ providers: [{ id: 'local', name: 'Email and password' }] });
    // A forged or unknown cookie: 401, and the browser is told to drop it.
    const forged = await call('GET', '/api/v1/me', { id: 'A'.repeat(43) });
    expect(forged.status).toBe(401);
    expect(forged.headers.getSetCookie().join()).toMatch(/latchkey_session=;.*Expires=Thu, 01 Jan 1970/);
  });

  it("refuses state-changing cookie calls without the session's X-CSRF-Token (403) and accepts them with it", async () => {
    const { signIn, call } = browser(t);
    const { session } = await signIn('admin@latchkey.local', ADMIN_PASSWORD);
    secrets.push(session.id, session.csrf);
    const without = await call('POST', '/api/v1/groups', { id: session.id }, { name: 'csrf-none' });
    expect(without.status).toBe(403);
    expect(without.body.code).toBe('CSRF_TOKEN_INVALID');
    const other = (await signIn('admin@latchkey.local', ADMIN_PASSWORD)).session;
    secrets.push(other.id, other.csrf);
    const wrong = await call('POST', '/api/v1/groups', { id: session.id, csrf: other.csrf }, { name: 'csrf-wrong' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('CSRF_TOKEN_INVALID');
    for (const method of ['PUT', 'DELETE'])
      expect(
        (
          await call(
            method,
            '/api/v1/users/00000000-0000-4000-8000-000000000000',
            { id: session.id },
            method === 'PUT' ? { email: 'x@example.com', name: 'x' } : undefined,
          )
        ).status,
      ).toBe(403);

    const ok = await call('POST', '/api/v1/groups', session, { name: 'csrf-ok' });
    expect(ok.status).toBe(201);
    const groups = (await t.api('GET', '/api/v1/groups')).body.items.map((g: { name: string }) => g.name);
    expect(groups).toContain('csrf-ok');
    expect(groups).not.toContain('csrf-none');
    expect(groups).not.toContain('csrf-wrong');
    // Bearer calls need no CSRF header, with or without a cookie beside them: the token wins.
    expect((await t.api('POST', '/api/v1/groups', { body: { name: 'bearer-ok' } })).status).toBe(201);
    expect((await t.api('POST', '/api/v1/groups', { body: { name: 'bearer-and-cookie' }, headers: { cookie: `latchkey_session=${session.id}` } })).status).toBe(
      201,
    );

    // A cross-site form can post only form or text bodies: sign-in takes JSON alone (no login CSRF).
    for (const [type, raw] of [
      ['application/x-www-form-urlencoded', 'email=admin%40latchkey.local&password=x'],
      ['text/plain', JSON.stringify({ email: 'admin@latchkey.local', password: ADMIN_PASSWORD })],
    ]) {
      const form = await t.api('POST', '/api/v1/auth/sign-in', { token: null, raw, headers: { 'content-type': type } });
      expect({ type, status: form.status }).toEqual({ type, status: 415 });
      expect(form.headers.getSetCookie()).toEqual([]);
    }
  });

  it('makes a new session id at each sign-in, ends the one the browser had, and refuses a cookie after sign-out', async () => {
    const { signIn, call } = browser(t);
    const first = (await signIn('admin@latchkey.local', ADMIN_PASSWORD)).session;
    // Signing in again from the same browser (its cookie sent along): a new id, the old one dead.
    const second = (await signIn('admin@latchkey.local', ADMIN_PASSWORD, first.id)).session;
    secrets.push(first.id, first.csrf, second.id, second.csrf);
    expect(second.id).not.toBe(first.id);
    expect(second.csrf).not.toBe(first.csrf);
    expect((await call('GET', '/api/v1/me', first)).status).toBe(401);
    expect((await call('GET', '/api/v1/me', second)).status).toBe(200);

    // A fixated id (one the server never issued) is never adopted: sign-in ignores it.
    const planted = 'P'.repeat(43);
    const third = (await signIn('admin@latchkey.local', ADMIN_PASSWORD, planted)).session;
    secrets.push(third.id, third.csrf);
    expect(third.id).not.toBe(planted);
    expect((await call('GET', '/api/v1/me', { id: planted })).status).toBe(401);

    expect((await call('POST', '/api/v1/auth/sign-out', { id: second.id })).status).toBe(403); // CSRF applies
    const out = await call('POST', '/api/v1/auth/sign-out', second);
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join()).toMatch(/latchkey_session=;/);
    const after = await call('GET', '/api/v1/me', second);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('UNAUTHENTICATED');
    expect((await call('GET', '/api/v1/me', third)).status).toBe(200);
  });

  it('signs out everywhere', async () => {
    const { signIn, call } = browser(t);
    const { user, password } = await invitedUser(t);
    const laptop = (await signIn(user.email, password)).session;
    const phone = (await signIn(user.email, password)).session;
    secrets.push(password, laptop.id, laptop.csrf, phone.id, phone.csrf);
    const admin = (await signIn('admin@latchkey.local', ADMIN_PASSWORD)).session;
    secrets.push(admin.id, admin.csrf);
    expect((await call('GET', '/api/v1/me', phone)).status).toBe(200);

    const everywhere = await call('POST', '/api/v1/auth/sign-out-everywhere', laptop);
    expect(everywhere.status).toBe(200);
    expect(everywhere.body).toEqual({ sessionsEnded: 2 });
    expect((await call('GET', '/api/v1/me', laptop)).status).toBe(401);
    expect((await call('GET', '/api/v1/me', phone)).status).toBe(401);
    expect((await call('GET', '/api/v1/me', admin)).status).toBe(200); // someone else's session stays
  });

  it('ends the sessions of a demoted user, a deleted user, and a user whose password changed', async () => {
    const { signIn, call } = browser(t);
    const ana = await invitedUser(t, 'admin');
    const bo = await invitedUser(t);
    const cy = await invitedUser(t);
    const anaSession = (await signIn(ana.user.email, ana.password)).session;
    const boSession = (await signIn(bo.user.email, bo.password)).session;
    const cySession = (await signIn(cy.user.email, cy.password)).session;
    secrets.push(ana.password, bo.password, cy.password, anaSession.id, boSession.id, cySession.id);
    expect((await call('GET', '/api/v1/users', anaSession)).status).toBe(200);

    expect((await t.api('PUT', `/api/v1/users/${ana.user.id}`, { body: { email: ana.user.email, name: 'Ana', role: 'user' } })).status).toBe(200);
    expect((await call('GET', '/api/v1/me', anaSession)).status).toBe(401);

    expect((await t.api('DELETE', `/api/v1/users/${bo.user.id}`)).status).toBe(200);
    expect((await call('GET', '/api/v1/me', boSession)).status).toBe(401);
    expect((await signIn(bo.user.email, bo.password)).status).toBe(401);

    // An admin's reset: the old password works until the link is used; then the sessions end.
    const reset = await t.api('POST', `/api/v1/users/${cy.user.id}/reset-password`);
    expect(reset.status).toBe(201);
    expect(reset.headers.get('cache-control')).toBe('no-store');
    expect((await call('GET', '/api/v1/me', cySession)).status).toBe(200);
    const newPassword = 'a brand new password for cy';
    secrets.push(newPassword, tokenOf(reset.body.url));
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: tokenOf(reset.body.url), password: newPassword } })).status).toBe(204);
    expect((await call('GET', '/api/v1/me', cySession)).status).toBe(401);
    expect((await signIn(cy.user.email, cy.password)).status).toBe(401);
    expect((await signIn(cy.user.email, newPassword)).status).toBe(200);
  });

  it('answers invite links once, valid once, for users without a password; admins only', async () => {
    const { signIn } = browser(t);
    const { user, token } = await createUser(t);
    const invite = await t.api('POST', `/api/v1/users/${user.id}/invite`);
    expect(invite.status).toBe(201);
    expect(invite.headers.get('cache-control')).toBe('no-store');
    expect(invite.body.url).toMatch(new RegExp(`^${t.url}/set-password#token=lkl_[A-Za-z0-9_-]{43}$`));
    const hours = (Date.parse(invite.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    const linkToken = tokenOf(invite.body.url);
    secrets.push(linkToken);
    // Stored as SHA-256 only.
    const stored = await t.control<{ token_hash: string }>('SELECT token_hash FROM access.password_links');
    expect(stored.map((r) => r.token_hash).join()).not.toContain(linkToken);

    expect((await t.api('POST', `/api/v1/users/${user.id}/invite`, { token })).status).toBe(403);
    expect((await t.api('POST', '/api/v1/users/00000000-0000-4000-8000-000000000000/invite')).status).toBe(404);
    expect((await t.api('POST', '/api/v1/users/not-a-uuid/invite')).body.details.issues).toEqual([{ field: 'id', rule: 'must be a UUID' }]);

    const password = 'invited and chosen by me';
    secrets.push(password);
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: linkToken, password } })).status).toBe(204);
    const reuse = await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: linkToken, password: 'someone else tries again' } });
    expect(reuse.status).toBe(400);
    expect(reuse.body.code).toBe('LINK_INVALID');
    expect((await signIn(user.email, password)).status).toBe(200);
    expect((await signIn(user.email, 'someone else tries again')).status).toBe(401);

    const twice = await t.api('POST', `/api/v1/users/${user.id}/invite`);
    expect(twice.status).toBe(409);
    expect(twice.body.details.issues[0].field).toBe('id');

    const bad = await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: '', password: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['password', 'token']);
    const badSignIn = await t.api('POST', '/api/v1/auth/sign-in', { token: null, body: { email: 'nope', password: '' } });
    expect(badSignIn.status).toBe(400);
    expect(badSignIn.body.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['email', 'password']);
  });

  it('throttles failed sign-ins per account (known or not) with 429 and Retry-After, the same answers for unknown emails', async () => {
    const { signIn } = browser(t);
    await t.control('DELETE FROM access.sign_in_failures');
    const { user, password } = await invitedUser(t);
    secrets.push(password);
    const unknown = 'nobody-here@example.com';

    const answers: Array<{ status: number; body: unknown }> = [];
    for (let i = 0; i < 5; i++) {
      const known = await signIn(user.email, `wrong password ${i}`);
      const ghost = await signIn(unknown, `wrong password ${i}`);
      expect(known.session.setCookie).toBe('');
      answers.push({ status: known.status, body: known.body }, { status: ghost.status, body: ghost.body });
    }
    for (const answer of answers) expect(answer).toEqual({ status: 401, body: { code: 'INVALID_CREDENTIALS', message: 'Email or password is wrong.' } });

    // The sixth attempt is refused, even with the right password, and for the unknown email alike.
    const refused = await signIn(user.email, password);
    const ghost = await signIn(unknown, 'whatever it is');
    for (const res of [refused, ghost]) {
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('TOO_MANY_ATTEMPTS');
      expect(res.body.message).toMatch(/Too many failed sign-ins .* Try again in 1[45] minutes\./);
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(res.body.details.retryAfterSeconds).toBe(retryAfter);
      expect(res.session.setCookie).toBe('');
    }
    expect(ghost.body.message).toBe(refused.body.message);

    // Once the window has passed (moved back here), the right password works and clears the count.
    await t.control("UPDATE access.sign_in_failures SET at = at - interval '15 minutes'");
    expect((await signIn(user.email, password)).status).toBe(200);
    await t.control('DELETE FROM access.sign_in_failures');
  });

  it('lets no more than the limit of attempts through when they are sent all at once', async () => {
    const { signIn } = browser(t);
    await t.control('DELETE FROM access.sign_in_failures');
    const { user, password } = await invitedUser(t);
    secrets.push(password);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => signIn(user.email, `parallel guess ${i}`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // Refused attempts do not count: exactly the checked ones are recorded.
    const [{ n }] = await t.control<{ n: number }>('SELECT count(*)::int AS n FROM access.sign_in_failures WHERE account = $1', [user.email]);
    expect(n).toBe(statuses.filter((s) => s === 401).length);
    await t.control('DELETE FROM access.sign_in_failures');
  });

  it('throttles per client address across accounts', async () => {
    const { signIn } = browser(t);
    await t.control('DELETE FROM access.sign_in_failures');
    // Claiming other addresses does not help: without LATCHKEY_TRUST_PROXY the socket's peer counts.
    for (let i = 0; i < 20; i++)
      expect((await signIn(`spray-${i}@example.com`, 'a guessed password', undefined, { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(401);
    const refused = await signIn('admin@latchkey.local', ADMIN_PASSWORD, undefined, { 'x-forwarded-for': '198.51.100.99' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    await t.control('DELETE FROM access.sign_in_failures');
    expect((await signIn('admin@latchkey.local', ADMIN_PASSWORD)).status).toBe(200);
  });

  it('spends as long on an unknown email as on a wrong password (a dummy hash is checked)', async () => {
    const { signIn } = browser(t);
    await t.control('DELETE FROM access.sign_in_failures');
    const timed = async (email: string) => {
      const started = performance.now();
      expect((await signIn(email, 'not the password')).status).toBe(401);
      return performance.now() - started;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await timed('admin@latchkey.local'));
      unknown.push(await timed(`ghost-${i}@example.com`));
    }
    // Without the dummy hash an unknown email would answer in a few ms against tens for scrypt.
    expect(median(unknown)).toBeGreaterThan(median(known) / 3);
    await t.control('DELETE FROM access.sign_in_failures');
  });

  it('audits sign-ins, failures, sign-outs, password changes, invites and resets, and never logs a secret', async () => {
    const rows = await t.control<{ action: string; text: string }>('SELECT action, row_to_json(a)::text AS text FROM access.audit_log a ORDER BY queued');
    const actions = new Set(rows.map((r) => r.action));
    for (const action of [
      'auth.signed-in',
      'auth.sign-in-failed',
      'auth.signed-out',
      'auth.signed-out-everywhere',
      'auth.password-changed',
      'user.invited',
      'user.password-reset',
    ]) {
      expect(actions).toContain(action);
    }
    const failed = rows.find((r) => r.action === 'auth.sign-in-failed' && r.text.includes('nobody-here@example.com'))!;
    expect(JSON.parse(failed.text).details).toMatchObject({ reason: 'unknown email', address: expect.any(String) });
    const signedIn = JSON.parse(rows.find((r) => r.action === 'auth.signed-in')!.text);
    expect(signedIn.details).toMatchObject({ method: 'password', address: expect.any(String), sessionId: expect.any(String) });

    const audit = rows.map((r) => r.text).join('\n');
    const logs = t.stack.output();
    const hashes = (
      await t.control<{ h: string }>(
        'SELECT session_hash AS h FROM access.sessions UNION ALL SELECT token_hash FROM access.password_links UNION ALL SELECT password_hash FROM access.user_passwords',
      )
    ).map((r) => r.h);
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of [...secrets, ...hashes]) {
      expect(audit).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toMatch(/lkl_[A-Za-z0-9_-]{43}/);
    expect(logs).not.toMatch(/\$scrypt\$/);
  });
});

describe('sessions over https, behind a proxy, with short lifetimes', () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({
      services: ['api-gateway', 'access'],
      // 6 s idle, 18 s at most; links at the public URL.
      env: { SESSION_IDLE_MINUTES: '0.1', SESSION_MAX_HOURS: '0.005', LATCHKEY_PUBLIC_URL: 'https://latchkey.example.test', LATCHKEY_TRUST_PROXY: 'loopback' },
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('marks the cookie Secure and points links at LATCHKEY_PUBLIC_URL', async () => {
    const { signIn } = browser(t);
    const { user, password } = await invitedUser(t);
    const link = await t.api('POST', `/api/v1/users/${user.id}/reset-password`);
    expect(link.body.url).toMatch(/^https:\/\/latchkey\.example\.test\/set-password#token=lkl_/);
    const res = await signIn(user.email, password);
    expect(res.status).toBe(200);
    expect(res.session.setCookie).toMatch(/; Secure/);
    expect(res.session.setCookie).toMatch(/; HttpOnly/);
  });

  it('throttles per client address as a trusted proxy (LATCHKEY_TRUST_PROXY) names it', async () => {
    const { signIn } = browser(t);
    const { user, password } = await invitedUser(t);
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 20; i++) expect((await signIn(`spray-${i}@example.com`, 'a guessed password', undefined, from('203.0.113.7'))).status).toBe(401);
    expect((await signIn(user.email, password, undefined, from('203.0.113.7'))).status).toBe(429);
    expect((await signIn(user.email, password, undefined, from('203.0.113.8'))).status).toBe(200);
    const [failure] = await t.control<{ details: { address: string } }>(
      "SELECT details FROM access.audit_log WHERE action = 'auth.sign-in-failed' ORDER BY queued DESC LIMIT 1",
    );
    expect(failure.details.address).toBe('203.0.113.7');
    await t.control('DELETE FROM access.sign_in_failures');
  });

  it('ends a session unused for SESSION_IDLE_MINUTES, and a used one at SESSION_MAX_HOURS', async () => {
    const { signIn, call } = browser(t);
    const { user, password } = await invitedUser(t);
    const idle = (await signIn(user.email, password)).session;
    const busy = (await signIn(user.email, password)).session;
    const started = Date.now();
    expect(Date.parse(busy.body.idleExpiresAt) - started).toBeLessThanOrEqual(6_000);

    // Used every 2 s, the busy session outlives the idle time several times over...
    let lastOk = 0;
    while (Date.now() - started < 16_000) {
      await sleep(2_000);
      const me = await call('GET', '/api/v1/me', busy);
      if (me.status === 200) lastOk = Date.now() - started;
      else break;
    }
    expect(lastOk).toBeGreaterThan(12_000);
    // ...while the unused one ended after 6 s.
    expect((await call('GET', '/api/v1/me', idle)).status).toBe(401);

    // Past 18 s from sign-in the busy one ends too, however recently used.
    await sleep(Math.max(0, 18_500 - (Date.now() - started)));
    const ended = await call('GET', '/api/v1/me', busy);
    expect(ended.status).toBe(401);
    expect(ended.body.code).toBe('UNAUTHENTICATED');
  });
});
