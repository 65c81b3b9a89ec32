import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { createUser, freePort, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { PgCluster, TestStack } from '@latchkey/testing';
import { descriptionOf, expectAccessible, launchChromium, pageText, screenshot, see, WAIT_MS } from './browser';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'prefs_connector';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const PASSWORD = 'a long portal password';
const SLACK_SECRET = `slack${randomBytes(10).toString('hex')}`;

/**
 * Notification preferences (issue 14): on the portal's Notifications page in a real browser, Rita
 * adds her own Slack webhook and turns off "My access is ready" (essential messages show as always
 * on); her next grant fires the webhook and tells her nothing of it, while the other messages
 * still come, by email and Slack, and she sees them delivered on her page. An admin's organisation
 * defaults show on her page; every change is audited.
 */
describe('notification preferences in the portal', () => {
  let t: TestStack;
  let target: PgCluster;
  let browser: Browser;
  let context: BrowserContext;
  let rita: Page;
  let smtp: SMTPServer;
  let receiver: Server;
  const mails: ParsedMail[] = [];
  const hooks: Array<{ path: string; type: string; requestId?: string; text?: string }> = [];
  const problems: string[] = [];
  let ritaId = '';
  let adaToken = '';
  let ritaToken = '';
  let resourceId = '';

  const mailsTo = (email: string, requestId: string) =>
    mails.filter((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(email) && m.text?.includes(requestId));

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        hooks.push({ path: req.url ?? '/', type: body.type, requestId: body.data?.requestId, text: body.blocks ? JSON.stringify(body.blocks) : undefined });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _s, cb) => void simpleParser(stream).then((m) => (mails.push(m), cb()), cb),
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));
    [t, target] = await Promise.all([
      startTestStack({ env: { NOTIFICATIONS_SWEEP_INTERVAL_SECONDS: '1', WEBHOOK_ALLOW_PRIVATE_URLS: 'true', SMTP_URL: `smtp://127.0.0.1:${smtpPort}` } }),
      startPgCluster({ hba: 'scram' }),
    ]);
    await target.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query('CREATE SCHEMA sales; CREATE TABLE sales.invoices (id int PRIMARY KEY);', undefined, 'shop');
    for (const group of ['analysts', 'data-team']) await t.api('POST', '/api/v1/groups', { body: { name: group } });
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
        name: 'analysts read invoices',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['data-team'] }] },
        maxDurationMinutes: 60,
      },
    });
    expect(flow.status).toBe(201);
    const hook = await t.api('POST', '/api/v1/webhooks', {
      body: { name: 'grants', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['access_request.granted'] },
    });
    expect(hook.status).toBe(201);

    const ada = await createUser(t, { email: 'ada@example.com', name: 'ada', groups: ['data-team'] });
    adaToken = ada.token;
    const created = await createUser(t, { email: 'rita@example.com', name: 'rita', groups: ['analysts'] });
    ritaId = created.user.id;
    ritaToken = created.token;
    const invite = await t.api('POST', `/api/v1/users/${ritaId}/invite`);
    const token = new URL(invite.body.url).hash.replace('#token=', '');
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password: PASSWORD } })).status).toBe(204);

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    rita = await context.newPage();
    rita.setDefaultTimeout(WAIT_MS);
    rita.setDefaultNavigationTimeout(WAIT_MS);
    rita.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await rita.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await rita.getByLabel('Email').fill('rita@example.com');
    await rita.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await rita.getByRole('button', { name: 'Sign in' }).click();
    await see(rita.getByRole('heading', { level: 1, name: 'New request' }));
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.dispose();
    await target?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    receiver?.closeAllConnections();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  const requestAndApprove = async () => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: ritaToken,
      body: { items: [{ resourceId, permission: 'READ_ONLY' }], justification: 'month end', durationMinutes: 30 },
    });
    expect(res.status).toBe(201);
    const id = res.body.requests[0].id as string;
    expect((await t.api('POST', `/api/v1/access-requests/${id}/approve`, { token: adaToken, body: {} })).status).toBe(200);
    await waitUntil('the granted webhook', async () => hooks.some((h) => h.type === 'access_request.granted' && h.requestId === id), WAIT_MS);
    return id;
  };

  it('an admin sets organisation defaults; bad choices are refused naming the field', async () => {
    const bad = await t.api('PUT', '/api/v1/notification-preferences/defaults', { body: { events: { 'access_request.nope': false } } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('events');
    expect((await t.api('PUT', '/api/v1/notification-preferences/defaults', { token: ritaToken, body: { events: {} } })).status).toBe(403);
    const set = await t.api('PUT', '/api/v1/notification-preferences/defaults', { body: { events: { 'access_request.expiring': false } } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ channels: ['email'], events: { 'access_request.expiring': false } });
    const mine = await t.api('GET', '/api/v1/me/notification-preferences', { token: ritaToken });
    expect(mine.body).toMatchObject({
      channels: ['email'],
      overrides: { channels: null, events: {} },
      defaults: { events: { 'access_request.expiring': false } },
      events: { 'access_request.expiring': false, 'access_request.granted': true },
    });
  });

  it('with email on, the grant mails Rita', async () => {
    const id = await requestAndApprove();
    await waitUntil('the grant email', async () => mailsTo('rita@example.com', id).some((m) => /access is ready/.test(m.subject ?? '')), WAIT_MS);
  });

  it('Rita adds her Slack and turns "My access is ready" off on her Notifications page; essential messages show as always on; the next grant fires the webhook and tells her nothing of it', async () => {
    await rita.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'My notifications' }).click();
    await see(rita.getByRole('heading', { level: 1, name: 'My notifications' }));
    const ready = rita.getByRole('checkbox', { name: 'My access is ready' });
    await expect(ready.isChecked()).resolves.toBe(true);
    await expect(rita.getByRole('checkbox', { name: 'My access ends soon' }).isChecked()).resolves.toBe(false);
    expect(await rita.getByRole('listitem').filter({ hasText: 'My access ends soon' }).textContent()).toContain('organisation default: off');
    // Essential messages cannot be turned off: shown on, and not to be changed.
    const revoked = rita.getByRole('checkbox', { name: 'My access was revoked' });
    await expect(revoked.isChecked()).resolves.toBe(true);
    await expect(revoked.isDisabled()).resolves.toBe(true);
    expect(await rita.getByRole('listitem').filter({ hasText: 'My access was revoked' }).textContent()).toContain('always on');
    await expect(rita.getByRole('checkbox', { name: 'Email', exact: true }).isChecked()).resolves.toBe(true);
    await expect(rita.getByRole('checkbox', { name: 'Slack', exact: true }).isChecked()).resolves.toBe(false);
    await expectAccessible(rita, 'portal notification preferences');
    // Slack without a webhook is refused, naming the field.
    await rita.getByRole('checkbox', { name: 'Slack', exact: true }).check();
    await rita.getByRole('button', { name: 'Save preferences' }).click();
    await see(rita.getByRole('alert').filter({ hasText: 'channels may list slack only with a slackWebhookUrl' }));
    await rita.getByLabel('My Slack incoming webhook URL').fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/T1/B1/${SLACK_SECRET}`);
    await ready.uncheck();
    await rita.getByRole('button', { name: 'Save preferences' }).click();
    await see(rita.getByRole('status').filter({ hasText: 'Preferences saved.' }));
    await screenshot(rita, 'portal-notification-preferences');
    await rita.reload({ waitUntil: 'domcontentloaded' });
    await see(rita.getByRole('heading', { level: 1, name: 'My notifications' }));
    await waitUntil(
      'the saved choice shown after a reload',
      async () => (await rita.getByRole('checkbox', { name: 'My access is ready' }).isChecked()) === false,
      WAIT_MS,
    );
    await expect(rita.getByRole('checkbox', { name: 'Slack', exact: true }).isChecked()).resolves.toBe(true);
    const slackField = rita.getByLabel('My Slack incoming webhook URL');
    await expect(slackField.inputValue()).resolves.toBe('');
    expect(await descriptionOf(slackField)).toContain(`Set (http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/***)`);
    expect(await pageText(rita)).not.toContain(SLACK_SECRET);
    const mine = await t.api('GET', '/api/v1/me/notification-preferences', { token: ritaToken });
    expect(mine.body.overrides).toEqual({ channels: ['email', 'slack'], events: { 'access_request.granted': false } });

    const id = await requestAndApprove();
    // The webhook fired; the deliveries of the grant were recorded with it, and none is an email to Rita.
    const targets = await t.control<{ type: string; target: string }>(
      `SELECT e.type, d.target FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id WHERE e.request_id = $1`,
      [id],
    );
    expect(targets.filter((r) => r.type === 'access_request.granted').map((r) => r.target)).not.toContain('email:rita@example.com');
    expect(targets.filter((r) => r.type === 'access_request.granted')).toHaveLength(1);
    // The approval mail is still on and arrives, on her Slack too; no grant message does.
    await waitUntil('the approval email, still on', async () => mailsTo('rita@example.com', id).some((m) => /was approved/.test(m.subject ?? '')), WAIT_MS);
    await waitUntil(
      'the approval on her Slack',
      async () => hooks.some((h) => h.path.endsWith(SLACK_SECRET) && h.text?.includes(id) && h.text.includes('was approved')),
      WAIT_MS,
    );
    expect(mailsTo('rita@example.com', id).filter((m) => /access is ready/.test(m.subject ?? ''))).toEqual([]);
    expect(hooks.filter((h) => h.path.endsWith(SLACK_SECRET) && h.text?.includes(id) && h.text.includes('access is ready'))).toEqual([]);
  });

  it('Rita sees the messages to her Slack and email on her page, each delivered with its attempt, never the Slack URL', async () => {
    await rita.reload({ waitUntil: 'domcontentloaded' });
    const table = await see(rita.getByRole('table', { name: 'Recent messages to me' }));
    const onSlack = table.getByRole('row').filter({ hasText: 'My request was approved' }).filter({ hasText: 'Slack' }).first();
    const row = await waitUntil(
      'the approval on her Slack shown delivered',
      async () => {
        const text = (await onSlack.count()) ? await onSlack.textContent() : null;
        return text?.includes('delivered') && text;
      },
      WAIT_MS,
    );
    expect(row).toMatch(/#1 .*: 200 in \d+ ms/);
    await see(table.getByRole('row').filter({ hasText: 'My request was approved' }).filter({ hasText: 'Email' }).first());
    expect(await pageText(rita)).not.toContain(SLACK_SECRET);
    await expectAccessible(rita, 'portal notification preferences with recent messages');
    const mine = await t.api('GET', '/api/v1/me/notification-deliveries?channel=slack', { token: ritaToken });
    expect(mine.status).toBe(200);
    expect(mine.text).not.toContain(SLACK_SECRET);
    expect(mine.body.items.map((d: any) => d.eventType)).toContain('access_request.approved');
  });

  it('audits both changes', async () => {
    const audit = await t.api('GET', '/api/v1/audit?pageSize=200');
    const actions = (audit.body.items as any[]).map((e) => [e.action, e.actor?.email ?? null]);
    expect(actions).toContainEqual(['notification-preferences.updated', 'rita@example.com']);
    expect(actions.filter(([a]) => a === 'notification-defaults.updated')).toHaveLength(1);
  });
});
