import { Client } from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { PgCluster, TestStack } from '@latchkey/testing';
import { expectAccessible, launchChromium, pageText, screenshot, see, WAIT_MS } from './browser';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'portal_connector';
const CONNECTOR_PASSWORD = 'Connector-pw-7be21c04d9';
const PASSWORD = 'a long portal password';

/**
 * The user portal in a real browser, two people in two browser contexts against the whole stack
 * and a private scram-only target: Rita (analysts) asks, Ada (data-team, owner of the table by
 * its comment tag) approves, Rita connects with the password shown once and revokes.
 */
describe('the user portal in a browser', () => {
  let t: TestStack;
  let target: PgCluster;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let rita: Page;
  let ada: Page;
  let requestId = '';
  let password = '';
  let username = '';
  const problems: string[] = [];

  const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const check = async (page: Page, name: string) => {
    await expectAccessible(page, name);
    await screenshot(page, name);
  };
  const login = async (pw: string) => {
    const client = new Client({ host: '127.0.0.1', port: target.port, user: username, password: pw, database: 'shop' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  /** A person with a password, signed in through the sign-in page in a browser context of their own. */
  const signedIn = async (email: string, groups: string[]): Promise<Page> => {
    const { user } = await createUser(t, { email, name: email.split('@')[0], groups });
    const invite = await t.api('POST', `/api/v1/users/${user.id}/invite`);
    const token = new URL(invite.body.url).hash.replace('#token=', '');
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password: PASSWORD } })).status).toBe(204);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on('pageerror', (err) => problems.push(`${email} page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()))
        problems.push(`${email} console: ${msg.text()}`);
    });
    await page.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await see(heading(page, 'New request'));
    return page;
  };

  beforeAll(async () => {
    [t, target] = await Promise.all([startTestStack(), startPgCluster({ hba: 'scram' })]);
    await target.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query(
      `CREATE SCHEMA sales;
       CREATE TABLE sales.invoices (id int PRIMARY KEY, total numeric); INSERT INTO sales.invoices VALUES (1, 42);
       COMMENT ON TABLE sales.invoices IS 'Invoices
latchkey:owner=data-team';
       CREATE TABLE sales.payments (id int PRIMARY KEY); COMMENT ON TABLE sales.payments IS 'latchkey:owner=data-team';`,
      undefined,
      'shop',
    );
    for (const group of ['analysts', 'data-team']) await t.api('POST', '/api/v1/groups', { body: { name: group } });
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: target.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
        customAccessDetails: 'Ask #data-help for the VPN.',
        integrationOwners: [{ attribute: 'group', values: ['data-team'] }],
        resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }],
      },
    });
    expect({ status: integration.status, body: integration.body }).toMatchObject({ status: 201, body: { status: 'ACTIVE' } });
    const integrationId = integration.body.id;
    const resources: Record<string, string> = {};
    await waitUntil(
      'discovered tables',
      async () => {
        for (const r of (await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&pageSize=100`)).body.items ?? []) resources[r.path] = r.id;
        return resources['shop/sales/invoices'] && resources['shop/sales/payments'];
      },
      WAIT_MS,
    );
    const flow = (name: string, path: string, extra: Record<string, unknown>) =>
      t.api('POST', '/api/v1/access-flows', {
        body: {
          name,
          requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
          targets: [
            {
              integrationId,
              resourceType: 'postgresql-table',
              permissions: ['READ_ONLY'],
              resources: { mode: 'include', by: 'id', values: [resources[path]] },
            },
          ],
          approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
          maxDurationMinutes: 120,
          ...extra,
        },
      });
    expect(
      (
        await flow('analysts read invoices', 'shop/sales/invoices', {
          settings: { justificationRequired: true, approverReasonRequired: true, maxExtensions: 1 },
        })
      ).status,
    ).toBe(201);
    // A window two hours from now: the flow is listed, and the dry run says why not now.
    const hour = new Date().getUTCHours();
    const at = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    expect(
      (
        await flow('payments at night', 'shop/sales/payments', {
          timeframe: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'], start: at(hour + 2), end: at(hour + 3), timeZone: 'UTC' },
        })
      ).status,
    ).toBe(201);

    browser = await launchChromium();
    [rita, ada] = await Promise.all([signedIn('rita@example.com', ['analysts']), signedIn('ada@example.com', ['data-team'])]);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.dispose();
    await target?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('shows the requester what they may request and, item by item, why a request would be refused', async () => {
    // Filtered by integration: the page asks for that integration's resources only.
    const shop = (await t.api('GET', '/api/v1/integrations')).body.items.find((i: { name: string }) => i.name === 'shop');
    const byIntegration = rita.waitForRequest(
      (r) => r.url().includes('/api/v1/me/requestable') && new URL(r.url()).searchParams.get('integrationId') === shop.id,
    );
    await rita.getByLabel('Integration').selectOption({ label: 'shop' });
    await byIntegration;
    await rita.getByLabel('Search resources').fill('payments');
    await see(rita.getByRole('cell', { name: /payments at night/ }));
    await rita.getByRole('checkbox', { name: 'Pick shop/sales/payments' }).check();
    await rita.getByLabel('Justification').fill('reconcile');
    await rita.getByRole('button', { name: 'Check who approves' }).click();
    const refused = rita.getByRole('alert').filter({ hasText: 'This request would be refused' });
    await see(refused);
    expect(await refused.textContent()).toContain('outside the timeframe of flow "payments at night"');
    await check(rita, 'portal-new-request-refused');
    await rita.getByRole('button', { name: 'Remove shop/sales/payments' }).click();
  });

  it('shows the dry run naming the approver, then requests', async () => {
    await rita.getByLabel('Search resources').fill('invoices');
    await rita.getByRole('checkbox', { name: 'Pick shop/sales/invoices' }).check();
    await rita.getByLabel('Duration (minutes)').fill('30');
    await rita.getByLabel('Justification').fill('monthly report');
    await rita.getByRole('button', { name: 'Check who approves' }).click();
    const dryRun = rita.getByRole('status').filter({ hasText: 'This request can be made' });
    await see(dryRun);
    expect(await dryRun.textContent()).toContain('ada@example.com');
    await check(rita, 'portal-new-request-dry-run');
    await rita.getByRole('button', { name: 'Request access' }).click();
    await see(heading(rita, 'Request: READ_ONLY on shop/sales/invoices'));
    requestId = rita.url().split('/').pop()!;
    await see(rita.getByRole('status').filter({ hasText: 'PENDING' }));
    await check(rita, 'portal-request-pending');
    // The requester never gets an approve button on their own request.
    await rita.getByRole('link', { name: 'Pending approvals' }).click();
    await see(rita.getByText('Nothing waits for you.'));
    expect(await rita.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await rita.goBack();
    await see(heading(rita, 'Request: READ_ONLY on shop/sales/invoices'));
  });

  it('shows the approver the request with why they approve; approving needs the reason the flow asks for', async () => {
    await ada.getByRole('link', { name: 'Pending approvals' }).click();
    const card = ada.getByRole('article', { name: 'rita@example.com: READ_ONLY on shop/sales/invoices' });
    await see(card);
    const text = (await card.textContent())!;
    expect(text).toContain('monthly report');
    expect(text).toContain('30 minutes');
    expect(text).toContain('You are asked as owner (shop/sales/invoices: tag owner=data-team -> group)');
    await card.getByRole('button', { name: 'Approve' }).click();
    await see(card.getByText('Reason is required by the flow.'));
    await check(ada, 'portal-approvals');
    await card.getByLabel('Reason').fill('ok for the monthly report');
    await card.getByRole('button', { name: 'Approve' }).click();
    await see(ada.getByText('Nothing waits for you.'));
  });

  it('shows the requester GRANTED without reloading, with the timeline and a live countdown', async () => {
    await see(rita.getByRole('status').filter({ hasText: 'GRANTED' }));
    const timeline = rita.getByRole('list').filter({ hasText: 'Approved by ada@example.com: ok for the monthly report' });
    await see(timeline);
    const countdown = rita.getByText(/min \d\d s left/).first();
    const before = await countdown.textContent();
    await waitUntil('the countdown moves', async () => (await countdown.textContent()) !== before, WAIT_MS);
    expect(await rita.getByRole('definition').filter({ hasText: '0 used, 1 remaining' }).count()).toBe(1);
    await check(rita, 'portal-request-granted');
  });

  it('reveals the password once; a real scram login with it reads the table; a second visit shows no password', async () => {
    await rita.getByRole('link', { name: 'Connect' }).click();
    await see(heading(rita, 'Connect'));
    await rita.getByRole('button', { name: 'Reveal password and access details' }).click();
    const box = rita.getByRole('textbox', { name: 'Password' });
    await see(box);
    password = await box.inputValue();
    expect(password.length).toBeGreaterThan(15);
    await see(rita.getByText('This password will not be shown again.'));
    const psql = (await rita.getByRole('figure', { name: 'psql command' }).textContent())!;
    username = /user=(\S+)/.exec(psql)![1];
    expect(psql).toContain(`port=${target.port}`);
    const uri = (await rita.getByRole('figure', { name: 'Connection URI (without the password)' }).textContent())!;
    expect(uri).toContain(`postgresql://${username}@127.0.0.1:${target.port}/shop?sslmode=disable`);
    expect(uri).not.toContain(password);
    await see(rita.getByText('Ask #data-help for the VPN.'));
    await rita.getByRole('button', { name: 'Copy password' }).click();
    expect(await rita.evaluate(() => navigator.clipboard.readText())).toBe(password);
    await check(rita, 'portal-connect');

    const client = await login(password);
    expect((await client.query('SELECT total FROM sales.invoices')).rows).toEqual([{ total: '42' }]);
    await client.end();

    await rita.reload({ waitUntil: 'domcontentloaded' });
    await see(rita.getByText(/The password was already viewed/));
    expect(await pageText(rita)).not.toContain(password);
  });

  it('resets the password: the new one logs in, the old one no more', async () => {
    await rita.getByRole('button', { name: 'Reset password' }).click();
    const box = rita.getByRole('textbox', { name: 'Password' });
    await see(box);
    const fresh = await box.inputValue();
    expect(fresh).not.toBe(password);
    await expect(login(password)).rejects.toThrow(/password authentication failed/);
    password = fresh;
  });

  it('extends: the page says how many extensions remain and shows the new expiry; the login is valid that long', async () => {
    const expiry = async () => new Date((await t.api('GET', `/api/v1/access-requests/${requestId}`)).body.expiresAt).getTime();
    const validUntil = async () => (await target.query<{ v: Date }>(`SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = '${username}'`))[0].v.getTime();
    const before = await expiry();
    await rita.getByRole('link', { name: 'Back to the request' }).click();
    await see(rita.getByRole('definition').filter({ hasText: '0 used, 1 remaining' }));
    await rita.getByRole('button', { name: 'Extend' }).click();
    const dialog = rita.getByRole('dialog');
    await see(dialog.getByText('1 extension remaining.'));
    await dialog.getByLabel('Minutes to add').fill('60');
    await dialog.getByRole('button', { name: 'Extend access' }).click();
    await see(rita.getByRole('definition').filter({ hasText: '1 used, 0 remaining' }));
    // The flow allows one extension: the button is gone.
    expect(await rita.getByRole('button', { name: 'Extend' }).count()).toBe(0);
    const after = await expiry();
    expect(after - before).toBe(60 * 60_000);
    // The countdown and the timeline show the new expiry (30 minutes asked + 60 added: over an hour left).
    await see(rita.getByRole('status').getByText(/^1 h \d\d min \d\d s left$/));
    const extended = rita.getByRole('listitem').filter({ hasText: 'Extended 1 time; expires then' });
    await see(extended);
    expect(await extended.locator('time').getAttribute('datetime')).toBe(new Date(after).toISOString());
    // The target follows: the login's VALID UNTIL is at least the new expiry, and it still logs in.
    await waitUntil('VALID UNTIL follows the extension', async () => (await validUntil()) >= after, WAIT_MS);
    const client = await login(password);
    expect((await client.query('SELECT total FROM sales.invoices')).rows).toEqual([{ total: '42' }]);
    await client.end();
    await check(rita, 'portal-request-extended');
  });

  it('revokes: the open session on the target ends', async () => {
    const session = await login(password);
    const sessions = () => target.query(`SELECT pid FROM pg_stat_activity WHERE usename = '${username}'`);
    expect((await sessions()).length).toBe(1);
    await rita.getByRole('button', { name: 'Revoke' }).click();
    await rita.getByRole('dialog').getByRole('button', { name: 'Revoke access' }).click();
    await see(rita.getByRole('status').filter({ hasText: 'REVOKED' }));
    await waitUntil('the session is ended', async () => (await sessions()).length === 0, WAIT_MS);
    await session.end().catch(() => undefined);
    await see(rita.getByRole('link', { name: 'Request again' }));
    await rita.getByRole('link', { name: 'My requests', exact: true }).click();
    await rita.getByRole('button', { name: 'Closed' }).click();
    await see(rita.getByRole('link', { name: 'READ_ONLY on shop/sales/invoices' }));
    await check(rita, 'portal-my-requests');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects with a reason: the requester sees it in the timeline without reloading', async () => {
    await rita.getByRole('link', { name: 'READ_ONLY on shop/sales/invoices' }).click();
    await rita.getByRole('link', { name: 'Request again' }).click();
    await see(heading(rita, 'New request'));
    expect(await rita.getByLabel('Search resources').inputValue()).toBe('shop/sales/invoices');
    await rita.getByRole('checkbox', { name: 'Pick shop/sales/invoices' }).check();
    await rita.getByLabel('Duration (minutes)').fill('30');
    await rita.getByLabel('Justification').fill('one more look');
    await rita.getByRole('button', { name: 'Check who approves' }).click();
    await see(rita.getByRole('status').filter({ hasText: 'This request can be made' }));
    await rita.getByRole('button', { name: 'Request access' }).click();
    await see(heading(rita, 'Request: READ_ONLY on shop/sales/invoices'));
    await see(rita.getByRole('status').filter({ hasText: 'PENDING' }));
    const second = rita.url().split('/').pop()!;
    expect(second).not.toBe(requestId);

    // Ada's page still shows Pending approvals: the new request appears without a reload.
    const card = ada.getByRole('article', { name: 'rita@example.com: READ_ONLY on shop/sales/invoices' });
    await see(card);
    expect(await card.textContent()).toContain('one more look');
    await card.getByRole('button', { name: 'Reject' }).click();
    await see(card.getByText('Reason is required by the flow.'));
    await card.getByLabel('Reason').fill('the report is done');
    await card.getByRole('button', { name: 'Reject' }).click();
    await see(ada.getByText('Nothing waits for you.'));

    await see(rita.getByRole('status').filter({ hasText: 'REJECTED' }));
    await see(rita.getByRole('listitem').filter({ hasText: 'Rejected by ada@example.com: the report is done' }));
    expect(await rita.getByRole('link', { name: 'Connect' }).count()).toBe(0);
    expect((await t.api('GET', `/api/v1/access-requests/${second}`)).body).toMatchObject({ status: 'REJECTED' });
    await check(rita, 'portal-request-rejected');
  });
});
