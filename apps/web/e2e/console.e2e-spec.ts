import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { INTEGRATION_NAME_RULE, RESOURCE_OWNER_RULE } from '@latchkey/contracts';
import type { Resource } from '@latchkey/contracts';
import { createUser, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { PgCluster, TestStack } from '@latchkey/testing';
import { descriptionOf, expectAccessible, gone, launchChromium, pageText, screenshot, see, WAIT_MS } from './browser';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
const ADMIN_EMAIL = 'admin@latchkey.local';
const ADMIN_PASSWORD = 'correct horse battery staple';
const CONNECTOR_USER = 'shop_connector';
const CONNECTOR_PASSWORD = 'Connector-pw-0f3a9c77e1';

/**
 * What an admin does in the console, in a real browser (Debian's chromium driven by
 * playwright-core) against the whole stack and a private scram-only PostgreSQL target. Every page
 * is checked with axe-core and photographed into .artifacts/screenshots.
 */
describe('the admin console in a browser', () => {
  let t: TestStack;
  let target: PgCluster;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let integrationId = '';
  const problems: string[] = [];
  const apiBodies: string[] = [];

  const go = async (path: string) => {
    const res = await page.goto(`${t.url}${path}`, { waitUntil: 'domcontentloaded' });
    expect(res?.headers()['content-security-policy']).toBe(CSP);
    return res;
  };
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const check = async (name: string) => {
    await expectAccessible(page, name);
    await screenshot(page, name);
  };

  beforeAll(async () => {
    // Six services and a browser on a shared 2-core machine: starting may take a while.
    [t, target] = await Promise.all([startTestStack(), startPgCluster({ hba: 'scram' })]);
    // A shop database and a connector user that may log in and nothing more: the preflight says what to grant.
    await target.query(`CREATE ROLE ${CONNECTOR_USER} LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query(
      "CREATE SCHEMA sales; CREATE TABLE sales.invoices (id int PRIMARY KEY, total numeric); CREATE TABLE sales.customers (id int PRIMARY KEY); COMMENT ON TABLE sales.invoices IS 'Invoices sent to customers.'",
      undefined,
      'shop',
    );
    browser = await launchChromium();
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      // A CSP violation, a failed script: anything the browser reports as an error (4xx answers are the API saying no, which the pages show).
      if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()))
        problems.push(`console: ${msg.text()}`);
    });
    page.on('response', async (res) => {
      if (res.url().includes('/api/') && res.headers()['content-type']?.includes('json')) apiBodies.push(await res.text().catch(() => ''));
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.dispose();
    await target?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('is served by the gateway with a strict CSP, a SPA fallback and long-lived hashed assets', async () => {
    const index = await fetch(`${t.url}/`);
    const html = await index.text();
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    for (const [name, value] of [
      ['content-security-policy', CSP],
      ['x-frame-options', 'DENY'],
      ['referrer-policy', 'no-referrer'],
      ['x-content-type-options', 'nosniff'],
    ]) {
      expect({ name, value: index.headers.get(name) }).toEqual({ name, value });
    }
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/\sstyle=|<style/); // no inline style

    const deepLink = await fetch(`${t.url}/integrations/some-id`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toBe(html);

    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(`${t.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const etag = js.headers.get('etag')!;
    expect((await fetch(`${t.url}${asset}`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    // The API keeps its own answers, with the same headers; a missing asset is a 404, not the page.
    const api = await fetch(`${t.url}/api/v1/no-such-route`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/json');
    expect(api.headers.get('content-security-policy')).toBe(CSP);
    expect((await fetch(`${t.url}/assets/missing-0000.js`, { headers: { accept: 'text/html' } })).status).toBe(404);
    expect((await fetch(`${t.url}/health`, { headers: { accept: 'text/html' } })).headers.get('content-type')).toContain('application/json');
  });

  it('lets the bootstrap admin set a password through a one-time link and sign in', async () => {
    const me = await t.api('GET', '/api/v1/me');
    const invite = await t.api('POST', `/api/v1/users/${me.body.id}/invite`);
    expect(invite.status).toBe(201);
    expect(invite.body.url).toContain('/set-password#token=');

    await page.goto(invite.body.url);
    await see(heading('Set your password'));
    expect(page.url()).not.toContain('token='); // the token leaves the address bar once read
    const password = page.getByLabel('New password');
    await password.fill('too short');
    expect(await descriptionOf(password)).toContain('must be at least 12 characters');
    await password.fill(ADMIN_PASSWORD);
    await page.getByLabel('Repeat the password').fill(ADMIN_PASSWORD);
    await check('set-password');
    await page.getByRole('button', { name: 'Set password' }).click();

    await see(page.getByText('Your password is set. Sign in with it.'));
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await see(page.getByRole('alert').filter({ hasText: 'Email or password is wrong.' }));
    await check('sign-in');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await see(heading('Catalog'));

    const cookie = (await context.cookies()).find((c) => c.name === 'latchkey_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
  });

  it('shows the catalog with the PostgreSQL tile', async () => {
    const tile = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'PostgreSQL' }) });
    await see(tile);
    expect(await tile.textContent()).toContain('Minimum connector version1.3.0');
    await check('catalog');
  });

  it('connects an integration through the wizard; a 400 lands on its field', async () => {
    // A name already taken is only known to the server: its 409 must land beside Integration Name.
    const taken = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'Shop DB',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: 1 },
        secret: { store: 'env', usernameVar: 'U', passwordVar: 'P' },
      },
    });
    expect(taken.status).toBe(201);

    await page.getByRole('link', { name: 'PostgreSQL' }).click();
    await see(heading('Connect Integration: PostgreSQL'));
    await see(page.getByRole('checkbox', { name: 'Tables, views and sequences' }));
    expect(await page.getByRole('checkbox', { name: 'Tables, views and sequences' }).isChecked()).toBe(true);
    await check('wizard-discovery');
    await page.getByRole('button', { name: 'Next' }).click();

    const local = page.getByRole('radio', { name: 'local (version 1.3.0, CONNECTED)' });
    await see(local);
    await waitUntil('the usable connector is chosen', () => local.isChecked(), WAIT_MS);
    await page.getByRole('button', { name: 'Next' }).click();

    const name = page.getByLabel('Integration Name');
    await name.fill('bad;name');
    expect(await descriptionOf(name)).toContain(INTEGRATION_NAME_RULE);
    await name.fill('shop db');
    await page.getByLabel('Hostname').fill('127.0.0.1');
    const port = page.getByLabel('Port', { exact: true });
    expect(await port.inputValue()).toBe('5432');
    await port.fill('54x');
    expect(await descriptionOf(port)).toContain('must be a number');
    await port.fill(String(target.port));
    expect(await page.getByLabel('Database Name').inputValue()).toBe('postgres');
    await page.getByLabel('Database Name').fill('shop');
    expect(await page.getByRole('radio', { name: 'prefer' }).isChecked()).toBe(true);
    expect(await descriptionOf(page.getByRole('radio', { name: 'verify-full' }))).toContain("the server hostname is checked against the certificate's names");
    await check('wizard-config');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByLabel('Username').fill(CONNECTOR_USER);
    await page.getByLabel('Password').fill(CONNECTOR_PASSWORD);
    await page.getByRole('button', { name: 'Next' }).click();

    const details = page.getByLabel('Custom Access Details (optional)');
    await details.fill('Connect from the office network.');
    expect(await descriptionOf(details)).toContain('32 / 400 characters');
    await page.getByRole('button', { name: 'Preview' }).click();
    expect(await page.getByRole('region', { name: 'Preview of the custom access details' }).textContent()).toContain('Connect from the office network.');
    await page.getByRole('button', { name: 'Add resource owner' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    const owners = page.getByRole('group', { name: 'Integration Owner (optional)' });
    expect(await descriptionOf(owners)).toBe(RESOURCE_OWNER_RULE);
    await page.getByRole('button', { name: 'Add integration owner' }).click();
    await page.getByLabel('Owner 1 values').fill('dba');
    expect(await descriptionOf(owners)).toBe('');
    await check('wizard-get-more');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('button', { name: 'Confirm' }).click();
    // The server refuses the name (taken, regardless of case): the wizard opens Integration Config.
    await see(page.getByText('must be unique regardless of case'));
    expect(await descriptionOf(page.getByLabel('Integration Name'))).toContain('must be unique regardless of case');
    await page.getByLabel('Integration Name').fill('Shop orders');
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();

    await see(heading('Shop orders is connected'), 120_000);
    integrationId = new URL(await page.getByRole('link', { name: 'Open the integration' }).evaluate((a) => (a as HTMLAnchorElement).href)).pathname
      .split('/')
      .pop()!;
    await see(page.getByRole('status').filter({ hasText: /checks failed/ }));
    await check('wizard-preflight');
  });

  it('shows the preflight failures with fix SQL; after running it, Test again turns the integration ACTIVE', async () => {
    const fixes = page.getByRole('figure', { name: /^Fix SQL for / });
    await see(fixes);
    const captions = await fixes.evaluateAll((figures) => figures.map((f) => f.querySelector('figcaption span')!.textContent!));
    expect(captions).toEqual(expect.arrayContaining(['Fix SQL for Create roles', 'Fix SQL for End sessions of revoked logins']));

    // The copy button copies exactly the SQL shown.
    await page.getByRole('button', { name: 'Copy fix SQL for Create roles' }).click();
    await see(page.getByRole('status').filter({ hasText: 'Copied' }));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`ALTER ROLE "${CONNECTOR_USER}" CREATEROLE;`);

    // Run every fix where it says (a database's fix is meant for that database), as the target's admin would.
    for (const caption of captions) {
      const sql = await page.getByRole('figure', { name: caption, exact: true }).locator('code').textContent();
      const database = /^Fix SQL for Grant on a database: (.+)$/.exec(caption)?.[1] ?? 'postgres';
      await target.query(sql!, undefined, database);
    }
    await page.getByRole('button', { name: 'Test again' }).click();
    await see(page.getByText('Every check passed: Latchkey can manage access on this database.'), 120_000);
    await see(page.getByRole('status').filter({ hasText: /Status\s*ACTIVE/ }));
    await check('wizard-active');
  });

  it('shows the integration without its secret, with live status while discovery refreshes', async () => {
    await page.getByRole('link', { name: 'Open the integration' }).click();
    await see(heading('Shop orders'));
    await page.getByRole('button', { name: 'Refresh discovery now' }).click();
    await see(page.getByText('Discovery started'));
    // Polled while REFRESHING: the page settles on ACTIVE without a reload.
    await see(page.getByRole('definition').filter({ hasText: /^ACTIVE/ }), 120_000);
    await page.getByRole('button', { name: 'Check drift' }).click();
    await see(page.getByText(/no drift\./));
    expect(await pageText(page)).not.toContain(CONNECTOR_PASSWORD);
    await check('integration-detail');

    await page.getByRole('link', { name: 'Edit' }).click();
    await see(heading('Edit Shop orders'));
    expect(await pageText(page)).not.toContain(CONNECTOR_PASSWORD);
    await page.getByRole('link', { name: 'Integrations' }).click();
    await see(heading('Integrations'));
    await see(page.getByRole('row').filter({ hasText: 'Shop orders' }).filter({ hasText: 'ACTIVE' }));
    await check('integrations');
    await page.getByRole('link', { name: 'Connectors' }).click();
    await see(page.getByRole('row').filter({ hasText: 'local' }).filter({ hasText: 'CONNECTED' }));
    await check('connectors');
  });

  it('finds the discovered tables and tags one', async () => {
    await waitUntil(
      'discovery lists shop/sales/invoices',
      async () => (await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&q=invoices`)).body.items?.length === 1,
      WAIT_MS,
    );
    await page.getByRole('link', { name: 'Resources' }).click();
    await see(heading('Resources'));
    await page.getByLabel('Integration').selectOption({ label: 'Shop orders' });
    await page.getByLabel('Type').selectOption('postgresql-table');
    await see(page.getByRole('row').filter({ hasText: 'shop/sales/customers' }));
    await page.getByLabel('Search by path').fill('invoices');
    await gone(page.getByRole('row').filter({ hasText: 'shop/sales/customers' }));
    const row = page.getByRole('row').filter({ hasText: 'shop/sales/invoices' });
    await see(row);
    expect(await row.textContent()).toContain('group dba (integration owner)');

    await page.getByRole('button', { name: 'Edit tags of shop/sales/invoices' }).click();
    const dialog = page.getByRole('dialog', { name: 'Tags of shop/sales/invoices' });
    await see(dialog);
    await dialog.getByLabel('Tag 1 key').fill('bad key!');
    expect(await descriptionOf(dialog.getByLabel('Tag 1 key'))).toContain('is not an allowed key: keys are 1-128 letters, digits, _ . : / -');
    await dialog.getByLabel('Tag 1 key').fill('owner');
    await dialog.getByLabel('Tag 1 value').fill('payments');
    await check('resources-tags');
    await dialog.getByRole('button', { name: 'Save tags' }).click();
    await gone(dialog);
    await see(page.getByRole('list', { name: 'Tags of shop/sales/invoices' }).getByText('owner=payments'));
    await check('resources');
  });

  it('creates an access flow', async () => {
    await page.getByRole('link', { name: 'Access flows' }).click();
    await see(heading('Access flows'));
    await page.getByRole('link', { name: 'New access flow' }).click();
    await see(heading('New access flow'));
    await page.getByLabel('Flow name').fill('Analysts read the shop');
    await page.getByLabel('Condition 1 values').fill('analysts');
    await page.getByLabel('Target 1 integration').selectOption({ label: 'Shop orders' });
    await page.getByLabel('Target 1 resource type').selectOption('postgresql-table');
    expect(await page.getByRole('checkbox', { name: 'READ_ONLY' }).isChecked()).toBe(true);
    await page.getByLabel('Target 1 resources').selectOption('include');
    await page.getByLabel('Target 1: find resources').fill('invoices');
    await page.getByRole('button', { name: 'Add shop/sales/invoices' }).click();
    expect(await page.getByLabel('Target 1 values').inputValue()).toBe('shop/sales/invoices');
    await page.getByLabel('Approver 1', { exact: true }).selectOption('user');
    await page.getByLabel('Approver 1 emails').fill('nobody@example.com');
    await page.getByLabel('Longest access (minutes)').fill('0');
    await page.getByRole('button', { name: 'Create access flow' }).click();
    expect(await descriptionOf(page.getByLabel('Longest access (minutes)'))).toContain('must be at least 1');
    await page.getByLabel('Longest access (minutes)').fill('120');
    // Only the access service knows who exists: its 400 lands beside the approver's emails.
    await page.getByRole('button', { name: 'Create access flow' }).click();
    await waitUntil(
      'the unknown approver is refused',
      async () => (await descriptionOf(page.getByLabel('Approver 1 emails'))).includes('must be the email of an existing user (nobody@example.com is not)'),
      WAIT_MS,
    );
    await page.getByLabel('Approve automatically (no approver)').check();
    await check('access-flow-editor');
    await page.getByRole('button', { name: 'Create access flow' }).click();
    await see(heading('Access flows'));
    await see(page.getByRole('row').filter({ hasText: 'Analysts read the shop' }).filter({ hasText: 'automatic' }));
    await check('access-flows');
  });

  it('adds and invites a user (the link is shown once) and makes an API token shown once', async () => {
    await page.getByRole('link', { name: 'People' }).click();
    await see(heading('People'));
    await page.getByRole('button', { name: 'Add a user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog.getByLabel('Email').fill('not an email');
    expect(await descriptionOf(dialog.getByLabel('Email'))).toContain('must be an email address');
    await dialog.getByLabel('Email').fill('ana@example.com');
    await dialog.getByLabel('Name').fill('Ana Analyst');
    await dialog.getByLabel('Groups').fill('analysts');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await gone(dialog);
    await see(page.getByRole('row').filter({ hasText: 'ana@example.com' }));

    await page.getByRole('button', { name: 'Invite ana@example.com' }).click();
    const link = page.getByRole('textbox', { name: 'One-time link' });
    await see(link);
    const url = await link.inputValue();
    expect(url).toMatch(new RegExp(`^${t.url}/set-password#token=`));
    await check('people-invite');
    await page.getByRole('button', { name: 'Done, hide the link' }).click();
    await gone(link);
    expect(await pageText(page)).not.toContain(url.split('#token=')[1]);
    await check('people');

    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('For').selectOption({ label: 'ana@example.com' });
    await page.getByLabel('Token name').fill('reporting laptop');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = page.getByRole('textbox', { name: 'API token' });
    await see(token);
    const secret = await token.inputValue();
    expect(secret).toMatch(/^lk_/);
    await page.getByRole('button', { name: 'Done, hide the token' }).click();
    await gone(token);
    await see(page.getByRole('row').filter({ hasText: 'reporting laptop' }));
    expect(await pageText(page)).not.toContain(secret);
    await page.reload();
    await see(page.getByRole('row').filter({ hasText: 'reporting laptop' }));
    expect(await pageText(page)).not.toContain(secret);
    await check('people-tokens');
  });

  it('dry-runs a flow while editing it: who could request what, and who would approve; nothing is saved', async () => {
    await page.getByRole('link', { name: 'Access flows' }).click();
    await page.getByRole('link', { name: 'Analysts read the shop' }).click();
    await see(heading('Access flow: Analysts read the shop'));
    const panel = page.getByRole('region', { name: 'Dry run: who could request what, and who would approve' });
    await page.getByLabel('Approve automatically (no approver)').uncheck();
    await page.getByLabel('Approver 1', { exact: true }).selectOption('user');
    await page.getByLabel('Approver 1 emails').fill(ADMIN_EMAIL);
    await panel.getByRole('button', { name: 'Run dry run' }).click();
    const result = panel.getByRole('region', { name: 'Dry run result' });
    // Ana (group analysts) is the only one the requestors let in; the admin would approve invoices.
    await see(result.getByRole('heading', { name: '1 person could request' }));
    expect(await result.getByRole('list', { name: '1 person could request' }).textContent()).toContain('ana@example.com');
    const row = result.getByRole('row').filter({ hasText: 'shop/sales/invoices' });
    await see(row);
    expect(await row.textContent()).toContain('READ_ONLY');
    expect(await row.getByRole('cell').last().textContent()).toContain(ADMIN_EMAIL);
    expect(await result.getByRole('row').filter({ hasText: 'shop/sales/customers' }).count()).toBe(0);
    await check('access-flow-dry-run');

    // A flow that could never match: the API's reason lands beside the field, as a save's would.
    await page.getByLabel('Approver 1', { exact: true }).selectOption('group');
    await page.getByLabel('Approver 1 groups').fill('no-such-group');
    await see(panel.getByRole('status').filter({ hasText: 'The flow has changed since this dry run' }));
    await panel.getByRole('button', { name: 'Run dry run' }).click();
    await waitUntil(
      'the unknown group is refused',
      async () => (await descriptionOf(page.getByLabel('Approver 1 groups'))).includes('must name an existing group (no-such-group does not exist)'),
      WAIT_MS,
    );
    await see(panel.getByRole('alert').filter({ hasText: 'The flow could never be used' }));

    await page.getByRole('link', { name: 'Access flows' }).click();
    await see(heading('Access flows'));
    const flows = (await t.api('GET', '/api/v1/access-flows')).body.items as Array<{ name: string; approvers: unknown }>;
    expect(flows.find((f) => f.name === 'Analysts read the shop')?.approvers).toBeNull();
  });

  it('deactivates a user: their sign-in is refused and their open session gets 401; reactivating lets them back', async () => {
    const password = 'dee-password-correct-1';
    const { user } = await createUser(t, { email: 'dee@example.com', name: 'Dee' });
    const invite = await t.api('POST', `/api/v1/users/${user.id}/invite`);
    const linkToken = decodeURIComponent(invite.body.url.split('#token=')[1]);
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token: linkToken, password } })).status).toBe(204);
    const dee = await browser.newContext();
    try {
      const signIn = () => dee.request.post(`${t.url}/api/v1/auth/sign-in`, { data: { email: 'dee@example.com', password }, failOnStatusCode: false });
      expect((await signIn()).status()).toBe(200);
      expect((await dee.request.get(`${t.url}/api/v1/me`, { failOnStatusCode: false })).status()).toBe(200);

      await page.getByRole('link', { name: 'People' }).click();
      await see(heading('People'));
      await page.getByRole('button', { name: 'Deactivate dee@example.com' }).click();
      const dialog = page.getByRole('dialog', { name: 'Deactivate dee@example.com?' });
      await see(dialog);
      await check('people-deactivate');
      await dialog.getByRole('button', { name: 'Deactivate user' }).click();
      await gone(dialog);
      const row = page.getByRole('row').filter({ hasText: 'dee@example.com' });
      await see(row.getByText('deactivated'));
      await see(row.getByRole('button', { name: 'Reactivate dee@example.com' }));

      // Their open session is over, and signing in again is refused like a wrong password (no enumeration).
      expect((await dee.request.get(`${t.url}/api/v1/me`, { failOnStatusCode: false })).status()).toBe(401);
      const deePage = await dee.newPage();
      deePage.setDefaultTimeout(WAIT_MS);
      await deePage.goto(`${t.url}/sign-in`, { waitUntil: 'domcontentloaded' });
      await deePage.getByLabel('Email').fill('dee@example.com');
      await deePage.getByLabel('Password', { exact: true }).fill(password);
      await deePage.getByRole('button', { name: 'Sign in' }).click();
      await see(deePage.getByRole('alert').filter({ hasText: 'Email or password is wrong.' }));
      const audit = await t.api('GET', `/api/v1/audit?action=user.deactivated&targetId=${user.id}`);
      expect(audit.body.items).toHaveLength(1);

      await row.getByRole('button', { name: 'Reactivate dee@example.com' }).click();
      await see(row.getByRole('button', { name: 'Deactivate dee@example.com' }));
      expect((await signIn()).status()).toBe(200);
      expect((await dee.request.get(`${t.url}/api/v1/me`, { failOnStatusCode: false })).status()).toBe(200);
    } finally {
      await dee.close();
    }
  });

  it('revokes a granted request from Activity', async () => {
    const { token } = await createUser(t, { email: 'rob@example.com', name: 'Rob', groups: ['analysts'] });
    const invoices = (await t.api<{ items: Resource[] }>('GET', `/api/v1/resources?integrationId=${integrationId}&q=invoices`)).body.items[0];
    const created = await t.api('POST', '/api/v1/access-requests', {
      token,
      body: { items: [{ resourceId: invoices.id, permission: 'READ_ONLY' }], durationMinutes: 30, justification: 'monthly report' },
    });
    expect(created.status).toBe(201);
    const requestId = created.body.requests[0].id;
    await waitUntil('the request is granted', async () => (await t.api('GET', `/api/v1/access-requests/${requestId}`)).body.status === 'GRANTED', WAIT_MS);

    await page.getByRole('link', { name: 'Activity' }).click();
    await see(heading('Activity'));
    await page.getByLabel('Status').selectOption('GRANTED');
    const row = page.getByRole('row').filter({ hasText: 'rob@example.com' });
    await see(row);
    await check('activity');
    await row.getByRole('link').click();
    await see(heading('Request by rob@example.com'));
    await page.getByRole('button', { name: 'Revoke access' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this access?' });
    await dialog.getByLabel('Reason (optional, recorded in the audit log)').fill('report done');
    await dialog.getByRole('button', { name: 'Revoke', exact: true }).click();
    await gone(dialog);
    await see(page.getByRole('status').filter({ hasText: /Status\s*REVOKED/ }), 120_000);
    await see(page.getByRole('list').filter({ hasText: 'revoked by admin@latchkey.local' }));
    await check('request-detail');
    const [role] = await target.query<{ rolcanlogin: boolean }>("SELECT rolcanlogin FROM pg_roles WHERE rolname LIKE 'lk_rob%'");
    expect(role?.rolcanlogin).toBe(false);
  });

  it('shows in Activity that a request waits on approvers who resolve to nobody', async () => {
    expect((await t.api('POST', '/api/v1/groups', { body: { name: 'nobody-home' } })).status).toBe(201);
    const { token } = await createUser(t, { email: 'eve@example.com', name: 'Eve', groups: ['auditors'] });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'approved by an empty group',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['auditors'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['nobody-home'] }] },
        maxDurationMinutes: 30,
      },
    });
    expect({ status: flow.status, body: flow.body }).toMatchObject({ status: 201 });
    const invoices = (await t.api<{ items: Resource[] }>('GET', `/api/v1/resources?integrationId=${integrationId}&q=invoices`)).body.items[0];
    const created = await t.api('POST', '/api/v1/access-requests', {
      token,
      body: { items: [{ resourceId: invoices.id, permission: 'READ_ONLY' }], durationMinutes: 30, justification: 'audit' },
    });
    expect(created.status).toBe(201);

    await page.getByRole('link', { name: 'Activity', exact: true }).click();
    await see(heading('Activity'));
    await page.getByLabel('Status').selectOption('PENDING');
    const row = page.getByRole('row').filter({ hasText: 'eve@example.com' });
    await see(row);
    await row.getByRole('link').click();
    await see(heading('Request by eve@example.com'));
    await see(page.getByRole('alert', { name: 'Warnings' }).filter({ hasText: /Nobody can approve for .*nobody-home/ }));
    await check('request-warning');
  });

  it('shows the audit log with a healthy chain and exports it as CSV', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await see(heading('Audit'));
    await see(page.getByText(/Chain healthy \(\d+ entries checked\)/));
    await page.getByLabel('Action (e.g. request.revoked)').fill('request.revoked');
    await see(page.getByRole('row').filter({ hasText: 'request.revoked' }));
    await check('audit');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^seq,/);
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain('request.revoked');
  });

  it('refuses a state-changing call from the page without the CSRF token', async () => {
    const status = await page.evaluate(() =>
      fetch('/api/v1/groups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forged' }) }).then(
        (r) => r.status,
      ),
    );
    expect(status).toBe(403);
    expect((await t.api('GET', '/api/v1/groups')).body.items.map((g: { name: string }) => g.name)).not.toContain('forged');
  });

  it('never showed the connector password or a token after they were created', async () => {
    expect(apiBodies.length).toBeGreaterThan(20);
    const everything = apiBodies.join('\n');
    expect(everything).not.toContain(CONNECTOR_PASSWORD);
    expect(everything).not.toContain(t.adminToken);
  });

  it('works with the keyboard alone: Tab reaches a page and a dialog, Enter opens them, Escape closes the dialog and gives focus back', async () => {
    /** Tabs from the top of the page until `target` has the focus: it is reachable by keyboard. */
    const tabTo = async (target: Locator) => {
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      for (let i = 0; i < 150; i++) {
        await page.keyboard.press('Tab');
        if (await target.evaluate((el) => el === document.activeElement)) return;
      }
      throw new Error('not reachable with Tab');
    };
    await tabTo(page.getByRole('link', { name: 'Resources' }));
    await page.keyboard.press('Enter');
    await see(heading('Resources'));
    await tabTo(page.getByLabel('Search by path'));
    await page.keyboard.type('invoices');
    const edit = page.getByRole('button', { name: 'Edit tags of shop/sales/invoices' });
    await see(edit);
    await tabTo(edit);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Tags of shop/sales/invoices' });
    await see(dialog);
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await gone(dialog);
    expect(await edit.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await see(page.getByRole('heading', { name: 'Sign in to Latchkey' }));
    await go('/integrations');
    await see(page.getByRole('heading', { name: 'Sign in to Latchkey' }));
    expect(page.url()).toContain('/sign-in?next=%2Fintegrations');
  });
});
