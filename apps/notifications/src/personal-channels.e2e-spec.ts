import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createGroupFlow, freePort, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
/** The secret part of each person's Slack incoming webhook (as in https://hooks.slack.com/services/T/B/<secret>). */
const RITA_SLACK_SECRET = `rita${randomBytes(12).toString('hex')}`;
const DANA_SLACK_SECRET = `dana${randomBytes(12).toString('hex')}`;

interface SlackMessage {
  path: string;
  body: { text: string; blocks: any[] };
}

/**
 * Per-person channels (issue 14): each person chooses email, their own Slack incoming webhook or
 * both; admins set the organisation's default channels and events; essential messages cannot be
 * turned off; the expiry warning carries an Extend link while extensions remain. Through the
 * gateway against every real service, with a Slack-like receiver and an SMTP server on loopback.
 */
describe('notifications: per-person channels, essential messages, the Extend link', () => {
  let pg: PgCluster;
  let t: TestStack;
  let smtp: SMTPServer;
  let slackServer: Server;
  const mails: ParsedMail[] = [];
  const slack: SlackMessage[] = [];
  const people: Record<string, { id: string; email: string; token: string }> = {};
  let resourceId: string;
  let slackBase = '';

  const mailsTo = (email: string, requestId: string) =>
    mails.filter((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(email) && m.text?.includes(requestId));
  const slackOf = (secret: string, requestId: string) => slack.filter((m) => m.path.endsWith(`/${secret}`) && JSON.stringify(m.body).includes(requestId));
  const buttonOf = (m: SlackMessage) => m.body.blocks.find((b) => b.type === 'actions').elements[0];
  const addPerson = async (key: string, groups: string[]) => {
    const email = `${key}-${randomBytes(3).toString('hex')}@example.com`;
    const user = await t.api('POST', '/api/v1/users', { body: { email, name: key, groups } });
    expect(user.status).toBe(201);
    const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: `${key} e2e` } });
    people[key] = { id: user.body.id, email, token: token.body.token };
  };
  const setMine = (who: string, body: unknown) => t.api('PUT', '/api/v1/me/notification-preferences', { token: people[who].token, body });
  const request = async () => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: people.rita.token,
      body: { items: [{ resourceId, permission: 'READ_ONLY' }], justification: 'ticket 9', durationMinutes: 1 },
    });
    expect(res.status).toBe(201);
    return res.body.requests[0].id as string;
  };
  const granted = async (id: string) => {
    expect((await t.api('POST', `/api/v1/access-requests/${id}/approve`, { token: people.dana.token, body: {} })).status).toBe(200);
    return waitUntil('the grant', async () => {
      const r = (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
      return r.status === 'GRANTED' && r;
    });
  };
  const deliveryTargets = async (eventType: string, requestId: string) =>
    (
      await t.control<{ target: string }>(
        `SELECT d.target FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id WHERE e.type = $1 AND e.request_id = $2 ORDER BY d.target`,
        [eventType, requestId],
      )
    ).map((r) => r.target);

  beforeAll(async () => {
    slackServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        slack.push({ path: req.url ?? '/', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => slackServer.listen(0, '127.0.0.1', r));
    slackBase = `http://127.0.0.1:${(slackServer.address() as AddressInfo).port}/services/T000/B000`;
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _s, cb) => void simpleParser(stream).then((m) => (mails.push(m), cb()), cb),
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));

    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query('CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int PRIMARY KEY);', undefined, 'app');
    t = await startTestStack({
      env: {
        ACCESS_SWEEP_INTERVAL_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
        NOTIFICATIONS_SWEEP_INTERVAL_SECONDS: '1',
        WEBHOOK_RETRY_SCHEDULE: '0,1,1,1',
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        EXPIRY_WARNING_MINUTES: '0.5',
        LATCHKEY_PUBLIC_URL: 'https://latchkey.example.com',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      },
    });
    for (const name of ['analysts', 'data-team']) await t.api('POST', '/api/v1/groups', { body: { name } });
    await addPerson('rita', ['analysts']);
    await addPerson('dana', ['data-team']);
    await addPerson('olaf', ['data-team']);
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'app',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    const integrationId = integration.body.id;
    await createGroupFlow(t, {
      name: 'analysts read billing, one extension',
      integrationId,
      requestors: 'analysts',
      approvers: 'data-team',
      maxDurationMinutes: 1,
      settings: { maxExtensions: 1 },
    });
    resourceId = await waitUntil('the discovered table', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table`);
      return (list.body.items ?? []).find((r: any) => r.path === 'app/billing/invoices')?.id;
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    slackServer?.closeAllConnections();
    await new Promise((r) => (slackServer ? slackServer.close(r) : r(undefined)));
  });

  it('refuses turning an essential message off, Slack without a webhook and a bad webhook URL, naming the field', async () => {
    const essential = await setMine('rita', { events: { 'access_request.revoked': false, 'access_request.granted': false } });
    expect(essential.status).toBe(400);
    expect(essential.body.details.issues).toEqual([{ field: 'events.access_request.revoked', rule: 'is essential and cannot be turned off' }]);
    const noWebhook = await setMine('rita', { channels: ['slack'] });
    expect(noWebhook.status).toBe(400);
    expect(noWebhook.body.details.issues).toEqual([{ field: 'channels', rule: expect.stringContaining('slackWebhookUrl') }]);
    const badUrl = await setMine('rita', { channels: ['slack'], slackWebhookUrl: 'hooks.slack.com/services/x' });
    expect(badUrl.status).toBe(400);
    expect(badUrl.text).toContain('slackWebhookUrl');
    const orgOff = await t.api('PUT', '/api/v1/notification-preferences/defaults', { body: { events: { 'access_request.failed': false } } });
    expect(orgOff.status).toBe(400);
    expect(orgOff.body.details.issues).toEqual([{ field: 'events.access_request.failed', rule: 'is essential and cannot be turned off' }]);
    const mine = await t.api('GET', '/api/v1/me/notification-preferences', { token: people.rita.token });
    expect(mine.body).toMatchObject({ channels: ['email'], slack: null, overrides: { channels: null, events: {} } });
    expect([...mine.body.essential].sort()).toEqual([
      'access_request.created',
      'access_request.escalated',
      'access_request.failed',
      'access_request.partially_approved',
      'access_request.rejected',
      'access_request.revoked',
    ]);
  });

  it('each person is told where they chose, once per event and channel; the organisation default reaches who chose nothing, by email when they have no Slack', async () => {
    const rita = await setMine('rita', { channels: ['slack'], slackWebhookUrl: `${slackBase}/${RITA_SLACK_SECRET}` });
    expect(rita.status).toBe(200);
    expect(rita.body).toMatchObject({
      channels: ['slack'],
      overrides: { channels: ['slack'] },
      slack: { url: `http://127.0.0.1:${(slackServer.address() as AddressInfo).port}/services/***` },
    });
    expect(rita.text).not.toContain(RITA_SLACK_SECRET);
    expect((await setMine('dana', { channels: ['email', 'slack'], slackWebhookUrl: `${slackBase}/${DANA_SLACK_SECRET}` })).status).toBe(200);
    // Changing her events later keeps the stored webhook.
    const kept = await setMine('dana', { channels: ['email', 'slack'], events: { 'access_request.reminder': false } });
    expect(kept.body.slack).not.toBeNull();
    const defaults = await t.api('PUT', '/api/v1/notification-preferences/defaults', {
      body: { channels: ['slack'], events: { 'access_request.approved': false } },
    });
    expect(defaults.status).toBe(200);
    expect(defaults.body).toMatchObject({ channels: ['slack'], events: { 'access_request.approved': false } });
    expect((await t.api('GET', '/api/v1/me/notification-preferences', { token: people.olaf.token })).body).toMatchObject({
      channels: ['slack'],
      slack: null,
      defaults: { channels: ['slack'] },
    });

    const id = await request();
    const [danaSlack] = await waitUntil(
      "the approval message on Dana's Slack",
      async () => slackOf(DANA_SLACK_SECRET, id).length > 0 && slackOf(DANA_SLACK_SECRET, id),
    );
    expect(danaSlack.body.text).toMatch(/^Approval needed/);
    expect(danaSlack.body.blocks.map((b) => b.text?.text ?? '').join('\n')).toContain(
      'You are asked because you are a member of the approver group "data-team"',
    );
    expect(buttonOf(danaSlack)).toMatchObject({ type: 'button', url: `https://latchkey.example.com/portal/approvals/${id}` });
    expect(buttonOf(danaSlack).action_id).toBeUndefined();
    await waitUntil('the approval email to Dana (she chose both)', async () => mailsTo(people.dana.email, id).length === 1);
    await waitUntil('the approval email to Olaf (Slack by default, but no webhook of his own)', async () => mailsTo(people.olaf.email, id).length === 1);
    expect(await deliveryTargets('access_request.created', id)).toEqual([
      `email:${people.dana.email}`,
      `email:${people.olaf.email}`,
      `slack:${people.dana.email}`,
    ]);

    const stored = JSON.stringify(await t.control('SELECT * FROM notifications.preferences'));
    expect(stored).toContain('AES-256-GCM');
    for (const secret of [RITA_SLACK_SECRET, DANA_SLACK_SECRET]) expect(stored).not.toContain(secret);
  });

  it("Rita's grant and its expiry warning reach her Slack only, the warning with an Extend link; once extended and none left, the next warning has none", async () => {
    const id = await request();
    const first = await granted(id);
    const [ready] = await waitUntil('the grant message on Slack', async () => {
      const found = slackOf(RITA_SLACK_SECRET, id).filter((m) => m.body.text === 'Your access is ready');
      return found.length > 0 && found;
    });
    expect(buttonOf(ready)).toMatchObject({ text: { text: 'Connect' }, url: `https://latchkey.example.com/portal/requests/${id}/connect` });

    const warning = await waitUntil(
      'the expiry warning on Slack',
      async () => slackOf(RITA_SLACK_SECRET, id).find((m) => m.body.text === 'Your access ends soon' && JSON.stringify(m.body).includes(first.expiresAt)),
      90_000,
    );
    expect(buttonOf(warning)).toMatchObject({ text: { text: 'Extend access' }, url: `https://latchkey.example.com/portal/requests/${id}?extend=1` });
    expect(JSON.stringify(warning.body.blocks)).toContain('1 extension left');

    const extended = await t.api('POST', `/api/v1/access-requests/${id}/extend`, { token: people.rita.token, body: { minutes: 1 } });
    expect(extended.status).toBe(200);
    const later = extended.body.expiresAt as string;
    expect(later > first.expiresAt).toBe(true);
    const last = await waitUntil(
      'the warning for the extended end',
      async () => slackOf(RITA_SLACK_SECRET, id).find((m) => m.body.text === 'Your access ends soon' && JSON.stringify(m.body).includes(later)),
      90_000,
    );
    expect(buttonOf(last)).toMatchObject({ text: { text: 'Open the request' }, url: `https://latchkey.example.com/portal/requests/${id}` });
    expect(JSON.stringify(last.body)).not.toContain('extend=1');
    expect(JSON.stringify(last.body.blocks)).toContain('cannot be extended');

    // Slack only: no email to Rita; the approval message is off by the organisation's default; each message once.
    expect(mailsTo(people.rita.email, id)).toEqual([]);
    expect(await deliveryTargets('access_request.approved', id)).toEqual([]);
    // Only an event someone is told of is kept: not the approval, nobody's business here.
    const kept = await t.control<{ type: string; deliveries: number }>(
      `SELECT e.type, count(d.id)::int AS deliveries FROM notifications.events e LEFT JOIN notifications.deliveries d ON d.event_id = e.id
        WHERE e.request_id = $1 GROUP BY e.id, e.type`,
      [id],
    );
    expect(kept.map((e) => e.type)).not.toContain('access_request.approved');
    expect(kept.map((e) => e.type)).toEqual(expect.arrayContaining(['access_request.granted', 'access_request.expiring']));
    expect(kept.filter((e) => e.deliveries === 0)).toEqual([]);
    const texts = slackOf(RITA_SLACK_SECRET, id).map((m) => JSON.stringify(m.body));
    expect(new Set(texts).size).toBe(texts.length);
    expect(slackOf(RITA_SLACK_SECRET, id).filter((m) => m.body.text === 'Your access ends soon')).toHaveLength(2);
  });

  it('an essential message goes even when an old choice turned it off; without her Slack webhook, Rita is told by email', async () => {
    const removed = await setMine('rita', { slackWebhookUrl: null });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ slack: null, channels: ['slack'], overrides: { channels: null } });
    // A choice stored before "revoked" became essential.
    await t.control(`UPDATE notifications.preferences SET event_choices = '{"access_request.revoked": false}' WHERE subject = $1`, [`user:${people.rita.id}`]);
    expect((await t.api('GET', '/api/v1/me/notification-preferences', { token: people.rita.token })).body.events['access_request.revoked']).toBe(true);

    const id = await request();
    await granted(id);
    expect((await t.api('POST', `/api/v1/access-requests/${id}/revoke`, { body: { reason: 'audit finding 12' } })).status).toBe(200);
    const [mail] = await waitUntil('the revocation email', async () => {
      const found = mailsTo(people.rita.email, id).filter((m) => /was revoked/.test(m.subject ?? ''));
      return found.length > 0 && found;
    });
    expect(mail.text).toContain('was revoked by admin@latchkey.local');
    expect(slackOf(RITA_SLACK_SECRET, id)).toEqual([]);
    expect(await deliveryTargets('access_request.revoked', id)).toEqual([`email:${people.rita.email}`]);
  });

  it('audits the changes without the webhook, and never logs it', async () => {
    const entries = [
      ...(await t.api('GET', '/api/v1/audit?targetType=user&pageSize=200')).body.items,
      ...(await t.api('GET', '/api/v1/audit?targetType=notification-defaults&pageSize=200')).body.items,
    ] as any[];
    const mine = entries.filter((e) => e.action === 'notification-preferences.updated' && e.targetId === people.rita.id);
    expect(mine.map((e) => e.details.slackWebhook).sort()).toEqual(['removed', 'set']);
    expect(entries.filter((e) => e.action === 'notification-defaults.updated')).toHaveLength(1);
    const text = JSON.stringify(entries) + t.stack.output();
    for (const secret of [RITA_SLACK_SECRET, DANA_SLACK_SECRET]) expect(text).not.toContain(secret);
  });
});
