import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { PgCluster, TestStack } from '@latchkey/testing';
import { expectAccessible, launchChromium, screenshot, see, WAIT_MS } from './browser';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'escalation_connector';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const PASSWORD = 'a long portal password';
/** Tier 1 after 6 s, tier 2 after 18 s: the request waits on nobody who acts. */
const TIER_MINUTES = [0.1, 0.3];

/**
 * Escalation in the portal (issue 14): nobody of the flow's own approvers acts, the request
 * escalates, and Max (named by the second escalation tier) finds it in his Pending approvals,
 * told why he is asked, and approves it in a real browser. Rita then follows the expiry warning's
 * Extend link, which opens the Extend dialog on her request.
 */
describe('an approver added by escalation approves in the portal', () => {
  let t: TestStack;
  let target: PgCluster;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const people: Record<string, { id: string; email: string; token: string }> = {};
  let resourceId = '';
  let requestId = '';

  const signIn = async (who: string): Promise<Page> => {
    const invite = await t.api('POST', `/api/v1/users/${people[who].id}/invite`);
    const token = new URL(invite.body.url).hash.replace('#token=', '');
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password: PASSWORD } })).status).toBe(204);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Email').fill(people[who].email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await see(page.getByRole('heading', { level: 1, name: 'New request' }));
    return page;
  };

  beforeAll(async () => {
    [t, target] = await Promise.all([startTestStack({ env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1' } }), startPgCluster({ hba: 'scram' })]);
    await target.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query('CREATE SCHEMA sales; CREATE TABLE sales.invoices (id int PRIMARY KEY);', undefined, 'shop');
    for (const group of ['analysts', 'data-team']) await t.api('POST', '/api/v1/groups', { body: { name: group } });
    for (const [who, groups] of [
      ['rita', ['analysts']],
      ['dana', ['data-team']],
      ['eve', []],
      ['max', []],
    ] as const) {
      const created = await createUser(t, { email: `${who}@example.com`, name: who, groups: [...groups] });
      people[who] = { id: created.user.id, email: `${who}@example.com`, token: created.token };
    }
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: target.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(integration.status).toBe(201);
    const integrationId = integration.body.id;
    resourceId = await waitUntil(
      'the discovered table',
      async () =>
        ((await t.api('GET', `/api/v1/resources?integrationId=${integrationId}`)).body.items ?? []).find((r: any) => r.path === 'shop/sales/invoices')?.id,
      WAIT_MS,
    );
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts read invoices, escalated',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['data-team'] }] },
        maxDurationMinutes: 60,
        settings: {
          maxExtensions: 1,
          escalation: [
            { afterMinutes: TIER_MINUTES[0], approvers: [{ type: 'user', values: [people.eve.email] }] },
            { afterMinutes: TIER_MINUTES[1], approvers: [{ type: 'user', values: [people.max.email] }] },
          ],
        },
      },
    });
    expect(flow.status).toBe(201);
    browser = await launchChromium();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await t?.dispose();
    await target?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('the tier 2 approver sees nothing before the tier is due, then the request with why he is asked, and approves it', async () => {
    const max = await signIn('max');
    await max.getByRole('link', { name: 'Pending approvals' }).click();
    await see(max.getByRole('heading', { level: 1, name: 'Pending approvals' }));
    const created = await t.api('POST', '/api/v1/access-requests', {
      token: people.rita.token,
      body: { items: [{ resourceId, permission: 'READ_ONLY' }], justification: 'quarter close', durationMinutes: 30 },
    });
    expect(created.status).toBe(201);
    requestId = created.body.requests[0].id;
    // Before tier 2 is due Max may not decide, and his list stays empty.
    expect((await t.api('POST', `/api/v1/access-requests/${requestId}/approve`, { token: people.max.token, body: {} })).status).toBe(404);
    await see(max.getByText('Nothing waits for you.'));

    const card = max.getByRole('article', { name: 'rita@example.com: READ_ONLY on shop/sales/invoices' });
    await see(card, 90_000);
    const text = (await card.textContent())!;
    expect(text).toContain('quarter close');
    expect(text).toContain('You are asked as escalation tier 2');
    await expectAccessible(max, 'portal approvals, escalated');
    await screenshot(max, 'portal-approvals-escalated');
    await card.getByLabel('Reason (optional)').fill('escalated to me, ok');
    await card.getByRole('button', { name: 'Approve' }).click();
    await see(max.getByText('Nothing waits for you.'));

    const request = await waitUntil(
      'the request granted',
      async () => {
        const r = (await t.api('GET', `/api/v1/access-requests/${requestId}`)).body;
        return r.status === 'GRANTED' && r;
      },
      WAIT_MS,
    );
    expect(request.approvals).toEqual([
      expect.objectContaining({ email: people.max.email, decision: 'APPROVED', reason: 'escalated to me, ok', escalationTier: 2, asAdmin: false }),
    ]);
  });

  it("the expiry warning's Extend link opens the Extend dialog on Rita's request", async () => {
    const rita = await signIn('rita');
    await rita.goto(`${t.url}/portal/requests/${requestId}?extend=1`, { waitUntil: 'domcontentloaded' });
    const dialog = rita.getByRole('dialog', { name: 'Extend this access' });
    await see(dialog);
    await see(dialog.getByText('1 extension remaining.'));
    await dialog.getByLabel('Minutes to add').fill('15');
    await dialog.getByRole('button', { name: 'Extend access' }).click();
    await see(rita.getByRole('definition').filter({ hasText: '1 used, 0 remaining' }));
    // With none left, the same link opens no dialog.
    await rita.goto(`${t.url}/portal/requests/${requestId}?extend=1`, { waitUntil: 'domcontentloaded' });
    await see(rita.getByRole('definition').filter({ hasText: '1 used, 0 remaining' }));
    expect(await rita.getByRole('dialog', { name: 'Extend this access' }).count()).toBe(0);
  });
});
