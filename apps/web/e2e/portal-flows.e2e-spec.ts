import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { createUser, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { PgCluster, TestStack } from '@latchkey/testing';
import { expectAccessible, gone, launchChromium, screenshot, see, WAIT_MS } from './browser';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'flows_connector';
const CONNECTOR_PASSWORD = 'Connector-pw-5d0e93a7c1';
const PASSWORD = 'a long portal password';

/**
 * The portal where several flows and several approvers meet, in a real browser against the whole
 * stack and a private scram-only target. Rita (analysts) asks; Fay (finance) and Sam (security)
 * decide, each signed in in a browser context of their own. Invoices are offered by a flow finance
 * approves, payments by one security approves, refunds by one that needs both (ALL_OF).
 */
describe('portal flows in a browser: a request split over flows, and ALL_OF approvals', () => {
  let t: TestStack;
  let target: PgCluster;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let rita: Page;
  let fay: Page;
  let sam: Page;
  let ritaId = '';
  const problems: string[] = [];

  const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
  const card = (page: Page, path: string) => page.getByRole('article', { name: `rita@example.com: READ_ONLY on ${path}` });
  const approverGroups = (scope: Page | Locator) => scope.getByRole('list', { name: 'Approver groups' }).getByRole('listitem');
  const check = async (page: Page, name: string) => {
    await expectAccessible(page, name);
    await screenshot(page, name);
  };

  /** A person with a password, in the groups given. */
  const person = async (email: string, groups: string[]): Promise<string> => {
    const { user } = await createUser(t, { email, name: email.split('@')[0], groups });
    const invite = await t.api('POST', `/api/v1/users/${user.id}/invite`);
    const token = new URL(invite.body.url).hash.replace('#token=', '');
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password: PASSWORD } })).status).toBe(204);
    return user.id;
  };

  /** Signed in through the sign-in page, in a browser context of their own. */
  const signedIn = async (email: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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

  /** Rita picks one resource after the other, then asks for READ_ONLY for 30 minutes and checks who approves. */
  const pickAndCheck = async (paths: string[], justification: string) => {
    await nav(rita, 'New request').click();
    await see(heading(rita, 'New request'));
    for (const path of paths) {
      await rita.getByLabel('Search resources').fill(path.split('/').pop()!);
      await rita.getByRole('checkbox', { name: `Pick ${path}` }).check();
    }
    expect(await rita.getByRole('list', { name: 'Picked resources' }).getByRole('listitem').count()).toBe(paths.length);
    await rita.getByLabel('Duration (minutes)').fill('30');
    await rita.getByLabel('Justification').fill(justification);
    await rita.getByRole('button', { name: 'Check who approves' }).click();
  };

  beforeAll(async () => {
    [t, target] = await Promise.all([startTestStack(), startPgCluster({ hba: 'scram' })]);
    await target.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query(
      `CREATE SCHEMA sales;
       CREATE TABLE sales.invoices (id int PRIMARY KEY);
       CREATE TABLE sales.payments (id int PRIMARY KEY);
       CREATE TABLE sales.refunds (id int PRIMARY KEY);`,
      undefined,
      'shop',
    );
    for (const group of ['analysts', 'finance', 'security']) expect((await t.api('POST', '/api/v1/groups', { body: { name: group } })).status).toBe(201);
    // People first: the flows are saved with approver groups that resolve to someone (no warning).
    ritaId = await person('rita@example.com', ['analysts']);
    await person('fay@example.com', ['finance']);
    await person('sam@example.com', ['security']);
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: target.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect({ status: integration.status, body: integration.body }).toMatchObject({ status: 201, body: { status: 'ACTIVE' } });
    const integrationId = integration.body.id;
    const resources: Record<string, string> = {};
    await waitUntil(
      'discovered tables',
      async () => {
        for (const r of (await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&pageSize=100`)).body.items ?? []) resources[r.path] = r.id;
        return ['invoices', 'payments', 'refunds'].every((table) => resources[`shop/sales/${table}`]);
      },
      WAIT_MS,
    );
    const flow = async (name: string, table: string, approvers: { mode: 'ANY_OF' | 'ALL_OF'; groups: string[] }) => {
      const created = await t.api('POST', '/api/v1/access-flows', {
        body: {
          name,
          requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
          targets: [
            {
              integrationId,
              resourceType: 'postgresql-table',
              permissions: ['READ_ONLY'],
              resources: { mode: 'include', by: 'id', values: [resources[`shop/sales/${table}`]] },
            },
          ],
          approvers: { mode: approvers.mode, groups: approvers.groups.map((g) => ({ type: 'group', values: [g] })) },
          maxDurationMinutes: 120,
        },
      });
      expect({ status: created.status, warnings: created.body.warnings ?? [] }).toEqual({ status: 201, warnings: [] });
    };
    await flow('invoices by finance', 'invoices', { mode: 'ANY_OF', groups: ['finance'] });
    await flow('payments by security', 'payments', { mode: 'ANY_OF', groups: ['security'] });
    await flow('refunds by finance and security', 'refunds', { mode: 'ALL_OF', groups: ['finance', 'security'] });

    browser = await launchChromium();
    [rita, fay, sam] = await Promise.all(['rita@example.com', 'fay@example.com', 'sam@example.com'].map(signedIn));
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

  it('Requests spanning several flows show their split: the dry run names each flow, its items and its approvers; submitting makes one request per flow', async () => {
    await pickAndCheck(['shop/sales/invoices', 'shop/sales/payments'], 'quarter close');
    const dryRun = rita.getByRole('status').filter({ hasText: 'This becomes 2 requests, one per flow' });
    await see(dryRun);
    const split = await dryRun.getByRole('list', { name: 'Requests, one per flow' }).getByRole('listitem').allTextContents();
    expect([...split].sort()).toEqual([
      'Flow invoices by finance covers shop/sales/invoices: approved by one of: member of group finance (fay@example.com).',
      'Flow payments by security covers shop/sales/payments: approved by one of: member of group security (sam@example.com).',
    ]);
    await check(rita, 'portal-flows-dry-run-split');

    await dryRun.getByRole('button', { name: 'Request access' }).click();
    await see(heading(rita, 'My requests'));
    await see(rita.getByRole('status').filter({ hasText: '2 requests made, one per flow: each is approved on its own.' }));
    const row = (path: string) => rita.getByRole('row').filter({ has: rita.getByRole('link', { name: `READ_ONLY on ${path}`, exact: true }) });
    for (const [path, flowName] of [
      ['shop/sales/invoices', 'invoices by finance'],
      ['shop/sales/payments', 'payments by security'],
    ]) {
      await see(row(path));
      expect(await row(path).getByRole('cell').allTextContents()).toEqual([
        `READ_ONLY on ${path}`,
        flowName,
        'PENDING',
        expect.any(String),
        expect.any(String),
      ]);
    }
    await check(rita, 'portal-flows-my-requests-split');

    // The API made one request per flow, each with its own approvers.
    const mine = (await t.api('GET', `/api/v1/access-requests?requesterId=${ritaId}`)).body.items;
    const summary = mine.map((r: any) => ({
      flow: r.flowName,
      status: r.status,
      paths: r.items.map((i: any) => i.path),
      approvers: r.approverGroups.flatMap((g: any) => g.approverEmails),
    }));
    expect(summary.sort((a: any, b: any) => a.flow.localeCompare(b.flow))).toEqual([
      { flow: 'invoices by finance', status: 'PENDING', paths: ['shop/sales/invoices'], approvers: ['fay@example.com'] },
      { flow: 'payments by security', status: 'PENDING', paths: ['shop/sales/payments'], approvers: ['sam@example.com'] },
    ]);

    // Each approver sees their share and only theirs.
    for (const [page, own, other, why] of [
      [fay, 'shop/sales/invoices', 'shop/sales/payments', 'You are asked as member of group finance'],
      [sam, 'shop/sales/payments', 'shop/sales/invoices', 'You are asked as member of group security'],
    ] as const) {
      await nav(page, 'Pending approvals').click();
      await see(card(page, own));
      expect(await card(page, own).textContent()).toContain(why);
      expect(await card(page, other).count()).toBe(0);
    }
  });

  it('ALL_OF shows which groups have approved and which are still awaited, to the requester and to the approvers', async () => {
    await pickAndCheck(['shop/sales/refunds'], 'refund audit');
    const dryRun = rita.getByRole('status').filter({ hasText: 'This request can be made' });
    await see(dryRun);
    expect(await dryRun.getByRole('list', { name: 'Requests, one per flow' }).getByRole('listitem').allTextContents()).toEqual([
      'Flow refunds by finance and security covers shop/sales/refunds: approved by each of: member of group finance (fay@example.com); member of group security (sam@example.com).',
    ]);
    await dryRun.getByRole('button', { name: 'Request access' }).click();
    await see(heading(rita, 'Request: READ_ONLY on shop/sales/refunds'));
    const requestId = rita.url().split('/').pop()!;
    await see(rita.getByRole('status').filter({ hasText: 'PENDING' }));
    await see(rita.getByText('Each group must approve.'));
    expect(await approverGroups(rita).allTextContents()).toEqual([
      'member of group finance (fay@example.com): awaited',
      'member of group security (sam@example.com): awaited',
    ]);

    // Fay approves for finance; the request waits on security, so it leaves her Pending approvals (her invoices share stays).
    const fayCard = card(fay, 'shop/sales/refunds');
    await see(fayCard);
    expect(await approverGroups(fayCard).allTextContents()).toEqual([
      'member of group finance (fay@example.com): awaited',
      'member of group security (sam@example.com): awaited',
    ]);
    await fayCard.getByLabel('Reason (optional)').fill('finance agrees');
    await fayCard.getByRole('button', { name: 'Approve' }).click();
    await gone(fayCard);
    await see(card(fay, 'shop/sales/invoices'));

    // Rita sees it without reloading: finance approved by Fay, security awaited, still PENDING.
    const afterFay = ['member of group finance (fay@example.com): approved by fay@example.com', 'member of group security (sam@example.com): awaited'];
    await waitUntil(
      'the requester sees the finance approval',
      async () => JSON.stringify(await approverGroups(rita).allTextContents()) === JSON.stringify(afterFay),
      WAIT_MS,
    );
    await see(rita.getByRole('listitem').filter({ hasText: 'Approved by fay@example.com: finance agrees' }));
    expect(
      await rita
        .getByRole('status')
        .filter({ hasText: /^Status / })
        .textContent(),
    ).toContain('PENDING');
    await check(rita, 'portal-flows-all-of-half-approved');

    // Sam's Pending approvals shows the same, without reloading, and why he is asked.
    const samCard = card(sam, 'shop/sales/refunds');
    await see(samCard);
    await waitUntil(
      'the approver sees the finance approval',
      async () => JSON.stringify(await approverGroups(samCard).allTextContents()) === JSON.stringify(afterFay),
      WAIT_MS,
    );
    expect(await samCard.textContent()).toContain('You are asked as member of group security');
    await check(sam, 'portal-flows-approvals-all-of');
    await samCard.getByRole('button', { name: 'Approve' }).click();
    await gone(samCard);

    // Both groups approved: granted, and the requester sees it without reloading.
    await see(rita.getByRole('status').filter({ hasText: 'GRANTED' }));
    expect(await approverGroups(rita).allTextContents()).toEqual([
      'member of group finance (fay@example.com): approved by fay@example.com',
      'member of group security (sam@example.com): approved by sam@example.com',
    ]);
    const request = (await t.api('GET', `/api/v1/access-requests/${requestId}`)).body;
    expect({ status: request.status, approvedBy: request.approverGroups.map((g: any) => g.satisfiedBy) }).toEqual({
      status: 'GRANTED',
      approvedBy: ['fay@example.com', 'sam@example.com'],
    });
    await check(rita, 'portal-flows-all-of-granted');
  });
});
