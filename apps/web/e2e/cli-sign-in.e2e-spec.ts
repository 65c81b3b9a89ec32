import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, REPO_ROOT, startOidcProvider, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { OidcTestProvider, TestStack } from '@latchkey/testing';
import { launchChromium, screenshot, see, signInAtProvider, WAIT_MS } from './browser';

const CLI = join(REPO_ROOT, 'dist/apps/cli/src/main.js');
const HOST =
  hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64) || 'this-computer';

interface Login {
  url: string;
  code: string;
  ended: Promise<{ code: number | null; out: string; err: string }>;
}

/**
 * `latchkey login` through the browser, as a person does it: the built CLI runs as a subprocess
 * (`--no-browser`, so the test opens the address it prints in Chromium), the person signs in with
 * single sign-on at a real OpenID Provider on loopback, compares the code and allows the CLI; the
 * CLI receives a token sealed to its one-time key on its loopback listener and stores it.
 */
describe('latchkey login in the browser, with single sign-on', () => {
  let t: TestStack;
  let idp: OidcTestProvider;
  let browser: Browser;
  let context: BrowserContext;
  let home: string;
  const cliEnv = () => ({ PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1' });

  const run = (args: string[]): Login['ended'] =>
    new Promise((done) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('close', (code) => done({ code, out, err }));
    });

  /** Starts `latchkey login <url> --no-browser`; answers the address and code it prints, and its end. */
  const startLogin = async (extra: string[] = []): Promise<Login> => {
    let err = '';
    const child = spawn(process.execPath, [CLI, 'login', t.url, '--no-browser', ...extra], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const ended = new Promise<{ code: number | null; out: string; err: string }>((done) => child.on('close', (code) => done({ code, out, err })));
    const url = await waitUntil('the sign-in address the CLI prints', async () => /(http:\/\/\S+\/portal\/cli-sign-in\?\S+)/.exec(err)?.[1] ?? null, WAIT_MS);
    const code = /shows the code ([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(err)?.[1];
    expect(code).toBeDefined();
    return { url, code: code!, ended };
  };

  const newPage = async (): Promise<Page> => {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    return page;
  };

  const sessionHeaders = async (): Promise<Record<string, string>> => {
    const cookie = (await context.cookies(t.url)).find((c) => c.name === 'latchkey_session');
    expect(cookie).toBeDefined();
    const session = await t.api('GET', '/api/v1/auth/session', { token: null, headers: { cookie: `latchkey_session=${cookie!.value}` } });
    return { cookie: `latchkey_session=${cookie!.value}`, 'x-csrf-token': session.body.csrfToken };
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'latchkey-cli-sso-'));
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
      accounts: { 'okta-ada': { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: ['analysts'] } },
    });
    [t, browser] = await Promise.all([
      startTestStack({
        services: ['api-gateway', 'access'],
        env: {
          PORT: String(port),
          LATCHKEY_PUBLIC_URL: publicUrl,
          OIDC_ISSUER_URL: idp.issuer,
          OIDC_CLIENT_ID: idp.clientId,
          OIDC_CLIENT_SECRET: idp.clientSecret,
          OIDC_SCOPES: 'openid email profile groups',
          OIDC_PROVIDER_NAME: 'Okta',
        },
      }),
      launchChromium(),
    ]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.dispose();
    await idp?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  }, STARTUP_TIMEOUT_MS);

  it('signs in with the provider, shows the computer and the code, and hands the CLI a token only it can open', async () => {
    const login = await startLogin();
    const page = await newPage();
    await page.goto(login.url, { waitUntil: 'domcontentloaded' });
    // Not signed in yet: the sign-in page, then the provider, then back to the CLI's page.
    await signInAtProvider(page, { latchkeyUrl: t.url, issuer: idp.issuer, account: 'okta-ada' });
    await see(page.getByRole('heading', { level: 2, name: `Allow the CLI on ${HOST}?` }));
    expect((await page.getByLabel('Code to compare with your terminal').textContent())?.trim()).toBe(login.code);
    await screenshot(page, 'cli-sign-in');
    await page.getByRole('button', { name: 'Allow' }).click();
    // The browser lands on the CLI's own listener, which says so.
    await see(page.getByRole('heading', { level: 1, name: 'Signed in' }));
    expect(new URL(page.url()).origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const done = await login.ended;
    expect(done).toMatchObject({ code: 0 });
    expect(done.out).toContain(`Signed in to ${t.url} as ada@example.com`);
    const file = join(home, 'config/latchkey/config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    const token: string = stored.profiles.default.token;
    const me = await t.api('GET', '/api/v1/me', { token });
    expect(me.body).toMatchObject({ email: 'ada@example.com', groups: ['analysts'] });

    // The token never showed: not in the CLI's output, the address the browser went to, or any log.
    expect(`${done.out}${done.err}`).not.toContain(token);
    expect(page.url()).not.toContain(token);
    expect(t.stack.output()).not.toContain(token);
    const [created] = await t.control<{ name: string; expires_at: Date }>(
      "SELECT t.name, t.expires_at FROM access.api_tokens t JOIN access.users u ON u.id = t.user_id WHERE u.email = 'ada@example.com'",
    );
    expect(created.name).toBe(`latchkey CLI on ${HOST}`);
    expect(Math.round((created.expires_at.getTime() - Date.now()) / 86_400_000)).toBe(30);
    const audit = await t.api('GET', '/api/v1/audit?action=token.created&pageSize=5');
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ action: 'token.created', actor: expect.objectContaining({ type: 'user', email: 'ada@example.com' }) }),
    );

    const whoami = await run(['whoami']);
    expect(whoami).toMatchObject({ code: 0 });
    expect(whoami.out).toContain('ada@example.com');
  });

  it('Deny leaves the CLI signed out with its exit code, and makes no token', async () => {
    const before = await t.control('SELECT 1 FROM access.api_tokens');
    const login = await startLogin(['--profile', 'denied']);
    const page = await newPage();
    await page.goto(login.url, { waitUntil: 'domcontentloaded' });
    // Already signed in in this browser: straight to the question.
    await (await see(page.getByRole('button', { name: 'Deny' }))).click();
    await see(page.getByRole('heading', { level: 1, name: 'Sign-in cancelled' }));
    const done = await login.ended;
    expect(done.code).toBe(7);
    expect(done.err).toContain('the sign-in was denied in the browser; nothing was stored');
    expect(await t.control('SELECT 1 FROM access.api_tokens')).toHaveLength(before.length);
    expect(JSON.parse(readFileSync(join(home, 'config/latchkey/config.json'), 'utf8')).profiles.denied).toBeUndefined();
  });

  it('ignores an answer for another login and refuses one not sealed to its key', async () => {
    const login = await startLogin(['--profile', 'tampered']);
    const state = new URL(login.url).searchParams.get('state')!;
    const port = new URL(login.url).searchParams.get('port')!;
    const other = await fetch(`http://127.0.0.1:${port}/callback?state=someone-elses-state-1234&sealed=x`);
    expect(other.status).toBe(400);
    // Sealed to another key: a real answer of the server, for a key this CLI does not hold.
    const headers = await sessionHeaders();
    const foreign = await t.api('POST', '/api/v1/auth/cli-tokens', {
      token: null,
      headers,
      body: { publicKey: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo', host: 'elsewhere' },
    });
    expect(foreign.status).toBe(201);
    expect(foreign.headers.get('cache-control')).toBe('no-store');
    const answer = await fetch(`http://127.0.0.1:${port}/callback?state=${state}&sealed=${foreign.body.sealedToken}`);
    expect(answer.status).toBe(400);
    const done = await login.ended;
    expect(done.code).toBe(7);
    expect(done.err).toContain('cannot open (changed, or sealed to another key)');
  });

  it('gives up after --timeout with its exit code', async () => {
    const login = await startLogin(['--timeout', '2s', '--profile', 'late']);
    const done = await login.ended;
    expect(done.code).toBe(4);
    expect(done.err).toContain('no answer from the browser within 2s; nothing was stored');
  });

  it('answers only browser sessions, and names a key it cannot use', async () => {
    const { token } = JSON.parse(readFileSync(join(home, 'config/latchkey/config.json'), 'utf8')).profiles.default;
    const withToken = await t.api('POST', '/api/v1/auth/cli-tokens', {
      token,
      body: { publicKey: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo', host: 'laptop' },
    });
    expect(withToken.status).toBe(401);
    const headers = await sessionHeaders();
    const malformed = await t.api('POST', '/api/v1/auth/cli-tokens', { token: null, headers, body: { publicKey: 'not a key', host: 'laptop; rm -rf /' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.details.issues).toEqual([
      { field: 'publicKey', rule: 'must be an X25519 public key (32 bytes in base64url)' },
      { field: 'host', rule: 'must be letters, digits, dots, dashes or underscores' },
    ]);
    // The all-zero point: no shared secret can come of it.
    const lowOrder = await t.api('POST', '/api/v1/auth/cli-tokens', { token: null, headers, body: { publicKey: 'A'.repeat(43), host: 'laptop' } });
    expect(lowOrder.status).toBe(400);
    expect(lowOrder.body.details.issues).toEqual([{ field: 'publicKey', rule: 'is not a usable X25519 public key' }]);
  });
});
