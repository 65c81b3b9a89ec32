import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { TestStack } from '@latchkey/testing';
import { expectAccessible, launchChromium, pageText, screenshot, see, WAIT_MS } from './browser';

jest.setTimeout(300_000);

const ADMIN_PASSWORD = 'the admin password, long enough';
const RITA_PASSWORD = 'a long portal password';

/**
 * The organisation's notification defaults in the console (issue 14), in Chromium: an admin turns
 * messages off and moves people to Slack on Notifications > Organisation defaults (essential
 * messages shown on, not to be changed); Rita, who chose nothing herself, then has those defaults
 * on her own page and in the API; she is offered no such page, and the API refuses her (403).
 */
describe('organisation notification defaults in the console', () => {
  let t: TestStack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let admin: Page;
  let rita: Page;
  let ritaToken = '';
  const problems: string[] = [];

  const signIn = async (email: string, password: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    contexts.push(context);
    const p = await context.newPage();
    p.setDefaultTimeout(WAIT_MS);
    p.setDefaultNavigationTimeout(WAIT_MS);
    p.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await p.goto(`${t.url}/sign-in`, { waitUntil: 'domcontentloaded' });
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password', { exact: true }).fill(password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
    return p;
  };
  const setPassword = async (userId: string, password: string, link: 'reset-password' | 'invite') => {
    const res = await t.api('POST', `/api/v1/users/${userId}/${link}`);
    const token = decodeURIComponent(new URL(res.body.url).hash.replace(/^#token=/, ''));
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password } })).status).toBe(204);
  };

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestStack({ services: ['api-gateway', 'access', 'notifications'] }), launchChromium()]);
    const me = await t.api('GET', '/api/v1/me');
    await setPassword(me.body.id, ADMIN_PASSWORD, 'reset-password');
    const created = await createUser(t, { email: 'rita@example.com', name: 'rita' });
    ritaToken = created.token;
    await setPassword(created.user.id, RITA_PASSWORD, 'invite');
    [admin, rita] = await Promise.all([signIn('admin@latchkey.local', ADMIN_PASSWORD), signIn('rita@example.com', RITA_PASSWORD)]);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await t?.dispose();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('an admin turns reminders and expiry warnings off and sends by Slack; essential messages stay on; saving no channel is refused', async () => {
    await admin.goto(`${t.url}/notifications`, { waitUntil: 'domcontentloaded' });
    await admin.getByRole('navigation', { name: 'Notifications' }).getByRole('link', { name: 'Organisation defaults' }).click();
    await see(admin.getByRole('heading', { level: 2, name: 'Organisation defaults' }));
    await see(admin.getByText('Never changed: everything on, by email.'));
    await expect(admin.getByRole('checkbox', { name: 'Email', exact: true }).isChecked()).resolves.toBe(true);
    const essential = admin.getByRole('checkbox', { name: 'A request needs my approval' });
    await expect(essential.isChecked()).resolves.toBe(true);
    await expect(essential.isDisabled()).resolves.toBe(true);
    expect(await admin.getByRole('listitem').filter({ hasText: 'My access was revoked' }).textContent()).toContain('always on');
    await expectAccessible(admin, 'console notification defaults');

    // No channel at all: refused in the page with the contract's own words, nothing sent.
    await admin.getByRole('checkbox', { name: 'Email', exact: true }).uncheck();
    await admin.getByRole('button', { name: 'Save defaults' }).click();
    await see(admin.getByRole('alert').filter({ hasText: 'channels must list at least one channel' }));
    expect((await t.api('GET', '/api/v1/notification-preferences/defaults')).body.updatedAt).toBeNull();

    await admin.getByRole('checkbox', { name: 'Slack', exact: true }).check();
    await admin.getByRole('checkbox', { name: 'Reminders of requests still waiting for me' }).uncheck();
    await admin.getByRole('checkbox', { name: 'My access ends soon' }).uncheck();
    await admin.getByRole('button', { name: 'Save defaults' }).click();
    await see(admin.getByRole('status').filter({ hasText: 'Defaults saved.' }));
    await screenshot(admin, 'console-notification-defaults');
    const stored = await t.api('GET', '/api/v1/notification-preferences/defaults');
    expect(stored.body).toMatchObject({ channels: ['slack'], events: { 'access_request.reminder': false, 'access_request.expiring': false } });
    expect(Object.keys(stored.body.events).sort()).toEqual(['access_request.expiring', 'access_request.reminder']);

    await admin.reload({ waitUntil: 'domcontentloaded' });
    await see(admin.getByRole('heading', { level: 2, name: 'Organisation defaults' }));
    await waitUntil(
      'the saved defaults shown after a reload',
      async () => (await admin.getByRole('checkbox', { name: 'My access ends soon' }).isChecked()) === false,
      WAIT_MS,
    );
    await expect(admin.getByRole('checkbox', { name: 'Slack', exact: true }).isChecked()).resolves.toBe(true);
    await expect(admin.getByRole('checkbox', { name: 'Email', exact: true }).isChecked()).resolves.toBe(false);
    await expect(admin.getByRole('checkbox', { name: 'My access is ready' }).isChecked()).resolves.toBe(true);
  });

  it('Rita, with no choices of her own, has the new defaults on her page and in the API', async () => {
    const mine = await t.api('GET', '/api/v1/me/notification-preferences', { token: ritaToken });
    expect(mine.body).toMatchObject({
      channels: ['slack'],
      overrides: { channels: null, events: {} },
      events: { 'access_request.reminder': false, 'access_request.expiring': false, 'access_request.granted': true },
    });
    await rita.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'My notifications' }).click();
    await see(rita.getByRole('heading', { level: 1, name: 'My notifications' }));
    await waitUntil('her page loaded', async () => (await rita.getByRole('checkbox', { name: 'My access ends soon' }).count()) === 1, WAIT_MS);
    await expect(rita.getByRole('checkbox', { name: 'My access ends soon' }).isChecked()).resolves.toBe(false);
    await expect(rita.getByRole('checkbox', { name: 'Reminders of requests still waiting for me' }).isChecked()).resolves.toBe(false);
    expect(await rita.getByRole('listitem').filter({ hasText: 'My access ends soon' }).textContent()).toContain('organisation default: off');
    expect(await rita.getByRole('listitem').filter({ hasText: 'Slack' }).first().textContent()).toContain('organisation default: on');
  });

  it('Rita is not offered the page, does not see it at its address, and the API refuses her', async () => {
    const nav = rita.getByRole('navigation', { name: 'Console' });
    await expect(nav.getByRole('list', { name: 'Administration' }).count()).resolves.toBe(0);
    await expect(nav.getByRole('link', { name: 'Notifications', exact: true }).count()).resolves.toBe(0);
    await rita.goto(`${t.url}/notifications/defaults`, { waitUntil: 'domcontentloaded' });
    await see(rita.getByRole('note').filter({ hasText: 'The admin console is for administrators' }));
    expect(await pageText(rita)).not.toContain('Organisation defaults');
    expect((await t.api('GET', '/api/v1/notification-preferences/defaults', { token: ritaToken })).status).toBe(403);
    expect((await t.api('PUT', '/api/v1/notification-preferences/defaults', { token: ritaToken, body: { events: {} } })).status).toBe(403);
  });

  it("audits the admin's change once", async () => {
    const audit = await t.api('GET', '/api/v1/audit?action=notification-defaults.updated&pageSize=50');
    expect(audit.status).toBe(200);
    expect((audit.body.items as any[]).map((e) => [e.action, e.actor?.email])).toEqual([['notification-defaults.updated', 'admin@latchkey.local']]);
  });
});
