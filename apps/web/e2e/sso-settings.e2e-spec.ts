import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, startOidcProvider, startTestStack, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { OidcTestProvider, TestStack } from '@latchkey/testing';
import { descriptionOf, expectAccessible, launchChromium, pageText, screenshot, see, signInAtProvider, WAIT_MS } from './browser';

const ADMIN_PASSWORD = 'the admin password, long enough';

/**
 * The console's People > Single sign-on page, in Chromium: an admin with no OIDC_* variables set
 * types the provider's settings, sees a bad field named beside it, saves (the secret never shown
 * again), and the sign-in page of a signed-out browser offers "Sign in with Okta" at once, which
 * signs a person in at a real OpenID Provider on loopback; removing the settings takes it away.
 */
describe('single sign-on set up in the console', () => {
  let t: TestStack;
  let idp: OidcTestProvider;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;

  const newPage = async (context: BrowserContext): Promise<Page> => {
    const p = await context.newPage();
    p.setDefaultTimeout(WAIT_MS);
    p.setDefaultNavigationTimeout(WAIT_MS);
    return p;
  };

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
      accounts: { 'okta-ada': { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: ['analysts'] } },
    });
    [t, browser] = await Promise.all([
      startTestStack({ services: ['api-gateway', 'access'], env: { PORT: String(port), LATCHKEY_PUBLIC_URL: publicUrl } }),
      launchChromium(),
    ]);
    // The bootstrap admin sets a password with a one-time link and signs in.
    const me = await t.api('GET', '/api/v1/me');
    const link = await t.api('POST', `/api/v1/users/${me.body.id}/reset-password`);
    const token = decodeURIComponent(new URL(link.body.url).hash.replace(/^#token=/, ''));
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password: ADMIN_PASSWORD } })).status).toBe(204);
    admin = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    page = await newPage(admin);
    await page.goto(`${t.url}/sign-in`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Email').fill('admin@latchkey.local');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.dispose();
    await idp?.stop();
  }, STARTUP_TIMEOUT_MS);

  it('shows single sign-on off, with the redirect URI to register', async () => {
    await page.goto(`${t.url}/people/sso`, { waitUntil: 'domcontentloaded' });
    await see(page.getByRole('heading', { level: 2, name: 'Single sign-on (OpenID Connect)' }));
    await see(page.getByText('Off', { exact: true }));
    await see(page.getByText(`${t.url}/api/v1/auth/oidc/callback`));
    await expectAccessible(page, 'single sign-on settings');
  });

  it('names a bad field beside it, then saves the settings without ever showing the secret again', async () => {
    await page.getByLabel('Issuer URL').fill('ftp://idp.example');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await descriptionOf(page.getByLabel('Issuer URL'))).toContain('must be an http(s) URL');
    expect(await descriptionOf(page.getByLabel('Client secret'))).toContain('is required the first time single sign-on is saved');

    await page.getByLabel('Issuer URL').fill(idp.issuer);
    await page.getByLabel('Client ID').fill(idp.clientId);
    await page.getByLabel('Client secret').fill(idp.clientSecret);
    await page.getByLabel('Button name').fill('Okta');
    await page.getByLabel('Scopes').fill('openid email profile groups');
    await page.getByRole('button', { name: 'Save' }).click();
    await see(page.getByRole('status').filter({ hasText: 'Saved: the sign-in page offers it now.' }));
    await see(page.getByText('Saved here', { exact: true }));
    expect(await page.getByLabel('Client secret').inputValue()).toBe('');
    expect(await descriptionOf(page.getByLabel('Client secret'))).toContain('A secret is stored (never shown). Leave empty to keep it.');
    expect(await pageText(page)).not.toContain(idp.clientSecret);
    await screenshot(page, 'sso-settings');
  });

  it('offers "Sign in with Okta" on the sign-in page at once, and it signs a person in', async () => {
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await newPage(visitor);
    await p.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await signInAtProvider(p, { latchkeyUrl: t.url, issuer: idp.issuer, account: 'okta-ada' });
    await see(p.getByRole('heading', { level: 1, name: 'New request' }));
    await see(p.getByText('Ada Lovelace (ada@example.com)'));
    await visitor.close();
  });

  it('removes the saved settings after a confirmation, and the sign-in page stops offering them', async () => {
    await page.getByRole('button', { name: 'Remove saved settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove the saved single sign-on?' });
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await see(page.getByRole('status').filter({ hasText: 'Removed: the sign-in page no longer offers the saved single sign-on.' }));
    await see(page.getByText('Off', { exact: true }));
    const visitor = await browser.newContext();
    const p = await newPage(visitor);
    await p.goto(`${t.url}/sign-in`, { waitUntil: 'domcontentloaded' });
    await see(p.getByRole('button', { name: 'Sign in', exact: true }));
    expect(await p.getByRole('link', { name: 'Sign in with Okta' }).count()).toBe(0);
    await visitor.close();
    expect(t.stack.output()).not.toContain(idp.clientSecret);
  });
});
