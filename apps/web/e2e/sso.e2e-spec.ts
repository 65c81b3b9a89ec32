import type { Browser, Page } from 'playwright-core';
import { createUser, freePort, startOidcProvider, startTestStack, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { OidcTestProvider, TestStack } from '@latchkey/testing';
import { expectAccessible, launchChromium, screenshot, see, signInAtProvider, WAIT_MS } from './browser';

/**
 * "Sign in with <provider>" on the console's sign-in page, in Chromium, against a real OpenID
 * Provider on loopback, with just-in-time accounts off (OIDC_JIT=false): a person Latchkey does
 * not know is sent back to the sign-in page with a message saying what to do, and nothing is
 * created; a person an admin added signs in and lands in the console as themselves.
 */
describe('single sign-on in the browser, without just-in-time accounts', () => {
  let t: TestStack;
  let idp: OidcTestProvider;
  let browser: Browser;
  const problems: string[] = [];

  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    return page;
  };

  /** From the sign-in page through the provider's login and consent forms, back to Latchkey. */
  const signInWithProvider = async (page: Page, account: string) => {
    await page.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await signInAtProvider(page, { latchkeyUrl: t.url, issuer: idp.issuer, account });
  };

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
      accounts: {
        'okta-ada': { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: ['analysts'] },
        'okta-zed': { email: 'zed@example.com', email_verified: true, name: 'Zed Unknown', groups: ['analysts'] },
      },
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
          OIDC_JIT: 'false',
        },
      }),
      launchChromium(),
    ]);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.dispose();
    await idp?.stop();
  }, STARTUP_TIMEOUT_MS);

  it('offers "Sign in with Okta" beside the password form', async () => {
    const page = await newPage();
    await page.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await see(page.getByRole('link', { name: 'Sign in with Okta' }));
    await see(page.getByRole('button', { name: 'Sign in' }));
    await expectAccessible(page, 'sign-in with SSO');
    await screenshot(page, 'sso-sign-in');
  });

  it('refuses a person Latchkey does not know, saying to ask an administrator, and creates nobody', async () => {
    const page = await newPage();
    await signInWithProvider(page, 'okta-zed');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    const alert = await see(page.getByRole('alert'));
    expect(await alert.first().textContent()).toBe(
      'Your identity provider signed you in, but Latchkey has no account for your email and does not create accounts at sign-in. Ask a Latchkey administrator to add you.',
    );
    await screenshot(page, 'sso-no-account');
    expect(await t.control("SELECT 1 FROM access.users WHERE email = 'zed@example.com'")).toHaveLength(0);
    const [failed] = await t.control<{ details: any }>(
      "SELECT details FROM access.audit_log WHERE action = 'auth.sign-in-failed' AND actor->>'email' = 'zed@example.com'",
    );
    expect(failed.details).toMatchObject({ method: 'oidc', issuer: idp.issuer, reason: expect.stringContaining('OIDC_JIT=false') });
    expect(await page.context().cookies(t.url)).not.toContainEqual(expect.objectContaining({ name: 'latchkey_session' }));
  });

  it('signs in a person an admin added, as themselves, with the groups the provider sends', async () => {
    const { user } = await createUser(t, { email: 'ada@example.com', name: 'Ada', groups: ['finance'] });
    const page = await newPage();
    await signInWithProvider(page, 'okta-ada');
    await see(page.getByRole('heading', { level: 1, name: 'New request' }));
    await screenshot(page, 'sso-signed-in');
    const session = (await page.context().cookies(t.url)).find((c) => c.name === 'latchkey_session');
    expect(session?.httpOnly).toBe(true);
    const me = await t.api('GET', '/api/v1/me', { token: null, headers: { cookie: `latchkey_session=${session!.value}` } });
    expect(me.body).toMatchObject({ id: user.id, email: 'ada@example.com', groups: ['analysts'] });
    expect(problems).toEqual([]);
  });
});
