import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { freePort, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
/** Shortened by the flow's own settings: reminders every 6 s (at most 2), escalation after 24 s. */
const REMINDER_MINUTES = 0.1;
const ESCALATION_MINUTES = 0.4;

/**
 * Reminders, escalation tiers, ALL_OF groups asked in turn and admin alerts by email (issue 14),
 * through the gateway against every real service, with an SMTP server and a webhook receiver
 * (verifying every message with `standardwebhooks`) on loopback.
 */
describe('notifications: reminders, escalation, ALL_OF in turn, alerts by email', () => {
  let pg: PgCluster;
  let t: TestStack;
  let smtp: SMTPServer;
  let receiver: Server;
  let hookSecret = '';
  const mails: ParsedMail[] = [];
  const hooks: Array<{ type: string; requestId?: string; id: string; verified: boolean; data: any }> = [];
  const people: Record<string, { id: string; email: string; token: string }> = {};
  let resourceId: string;

  const mailsTo = (email: string, subject?: RegExp) =>
    mails.filter((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(email) && (!subject || subject.test(m.subject ?? '')));
  const aboutRequest = (list: ParsedMail[], requestId: string) => list.filter((m) => m.text?.includes(requestId));
  const addPerson = async (key: string, groups: string[], role = 'user') => {
    const email = `${key}-${randomBytes(3).toString('hex')}@example.com`;
    const user = await t.api('POST', '/api/v1/users', { body: { email, name: key, groups, role } });
    expect(user.status).toBe(201);
    const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: `${key} e2e` } });
    people[key] = { id: user.body.id, email, token: token.body.token };
  };
  const flow = async (body: Record<string, unknown>) => {
    const res = await t.api('POST', '/api/v1/access-flows', { body });
    expect(res.status).toBe(201);
    return res.body;
  };
  const request = async (who: string) => {
    const res = await t.api('POST', '/api/v1/access-requests', {
      token: people[who].token,
      body: { items: [{ resourceId, permission: 'READ_ONLY' }], justification: 'ticket 7', durationMinutes: 5 },
    });
    expect(res.status).toBe(201);
    expect(res.body.requests).toHaveLength(1);
    return res.body.requests[0].id as string;
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let verified = true;
        try {
          new StandardWebhook(hookSecret).verify(raw, {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
        } catch {
          verified = false;
        }
        const body = JSON.parse(raw);
        hooks.push({ type: body.type, requestId: body.data?.requestId, id: String(req.headers['webhook-id']), verified, data: body.data });
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
        ALERTS_INTERVAL_SECONDS: '1',
        AUDIT_VERIFY_INTERVAL_MINUTES: '0.02',
        ALERTS_EMAIL: 'ops@example.com',
        LATCHKEY_PUBLIC_URL: 'https://latchkey.example.com',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      },
    });
    for (const name of ['analysts', 'auditors', 'data-team', 'security']) await t.api('POST', '/api/v1/groups', { body: { name } });
    await addPerson('analyst', ['analysts']);
    await addPerson('auditor', ['auditors']);
    await addPerson('dana', ['data-team']);
    await addPerson('sam', ['security']);
    await addPerson('boss', []);
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
    const target = { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] };
    await flow({
      name: 'analysts, reminded and escalated',
      requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
      targets: [target],
      approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['data-team'] }] },
      maxDurationMinutes: 5,
      settings: {
        reminders: { intervalMinutes: REMINDER_MINUTES, maxCount: 2 },
        escalation: [{ afterMinutes: ESCALATION_MINUTES, approvers: [{ type: 'user', values: [people.boss.email] }] }],
      },
    });
    await flow({
      name: 'auditors, two groups in turn',
      requestors: { conditions: [{ type: 'group', match: 'is', values: ['auditors'] }] },
      targets: [target],
      approvers: {
        mode: 'ALL_OF',
        groups: [
          { type: 'group', values: ['data-team'] },
          { type: 'group', values: ['security'] },
        ],
      },
      maxDurationMinutes: 5,
    });
    const hook = await t.api('POST', '/api/v1/webhooks', {
      body: {
        name: 'approver events',
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        events: ['access_request.reminder', 'access_request.escalated', 'access_request.partially_approved'],
      },
    });
    expect(hook.status).toBe(201);
    hookSecret = hook.body.secret;
    resourceId = await waitUntil('the discovered table', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table`);
      return (list.body.items ?? []).find((r: any) => r.path === 'app/billing/invoices')?.id;
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    receiver?.closeAllConnections();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  });

  it('refuses more than five escalation tiers, and tiers out of order, naming the field', async () => {
    const tier = (afterMinutes: number) => ({ afterMinutes, approvers: [{ type: 'user', values: [people.boss.email] }] });
    const base = {
      name: 'bad',
      requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
      targets: [],
      approvers: { mode: 'ANY_OF', groups: [{ type: 'user', values: [people.boss.email] }] },
      maxDurationMinutes: 5,
    };
    const six = await t.api('POST', '/api/v1/access-flows', { body: { ...base, settings: { escalation: [1, 2, 3, 4, 5, 6].map(tier) } } });
    expect(six.status).toBe(400);
    expect(six.text).toContain('settings.escalation');
    expect(six.text).toContain('at most 5 tiers');
    const backwards = await t.api('POST', '/api/v1/access-flows', {
      body: { ...base, settings: { escalation: [tier(10), tier(5)], reminders: { intervalMinutes: 5, maxCount: 0 } } },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.text).toContain('later than the tier before');
    expect(backwards.text).toContain('maxCount');
  });

  it('reminds the approver at most twice, escalates to the next tier once, exactly once each though SIGKILLed with Redis flushed on the way; the tier settles it', async () => {
    const requestId = await request('analyst');
    await waitUntil('the approval email', async () => aboutRequest(mailsTo(people.dana.email, /^Approval needed/), requestId).length === 1);
    // The tier's approver may not decide before the tier is due.
    const early = await t.api('POST', `/api/v1/access-requests/${requestId}/approve`, { token: people.boss.token, body: {} });
    expect(early.status).toBe(404);
    expect((await t.api('GET', '/api/v1/access-requests?awaitingMyApproval=true', { token: people.boss.token })).body.items).toEqual([]);

    await waitUntil('the first reminder', async () => aboutRequest(mailsTo(people.dana.email, /^Reminder 1 of 2/), requestId).length === 1);
    // Killed once the first reminder is recorded as sent (a kill between the SMTP answer and that
    // record would send it again, with the same Message-ID), before the second and the escalation.
    await waitUntil('the first reminder recorded as delivered', async () => {
      const rows = await t.control<{ status: string }>(`SELECT d.status FROM notifications.deliveries d WHERE d.event_id = $1`, [`reminder_${requestId}_1`]);
      return rows.length > 0 && rows.every((r) => r.status === 'DELIVERED');
    });
    await t.stack.kill('notifications');
    await t.redis.flushAll();
    t.stack.startProcess('notifications', 'notifications');

    const [escalation] = await waitUntil(
      'the escalation email',
      async () => {
        const found = aboutRequest(mailsTo(people.boss.email, /^Escalated to you/), requestId);
        return found.length > 0 && found;
      },
      90_000,
    );
    expect(escalation.text).toContain('escalation tier 1');
    expect(escalation.text).toContain(`https://latchkey.example.com/portal/approvals/${requestId}`);
    // The escalation (24 s) comes after a third reminder would have (18 s): two and no more.
    await waitUntil('the second reminder', async () => aboutRequest(mailsTo(people.dana.email, /^Reminder 2 of 2/), requestId).length === 1);
    expect(aboutRequest(mailsTo(people.dana.email, /^Reminder/), requestId)).toHaveLength(2);
    expect(aboutRequest(mailsTo(people.dana.email, /^Approval needed/), requestId)).toHaveLength(1);
    expect(aboutRequest(mailsTo(people.boss.email), requestId)).toHaveLength(1);
    const escalated = await waitUntil('the escalated webhook', async () =>
      hooks.find((h) => h.type === 'access_request.escalated' && h.requestId === requestId),
    );
    expect(escalated).toMatchObject({ verified: true, data: { escalationTier: 1, escalation: [{ tier: 1, emails: [people.boss.email] }] } });

    // The escalated approver finds it among the requests awaiting them (the portal's Pending approvals).
    const awaiting = await t.api('GET', '/api/v1/access-requests?awaitingMyApproval=true&status=PENDING', { token: people.boss.token });
    expect(awaiting.body.items.map((r: any) => r.id)).toEqual([requestId]);
    const approved = await t.api('POST', `/api/v1/access-requests/${requestId}/approve`, { token: people.boss.token, body: { reason: 'escalated to me' } });
    expect(approved.status).toBe(200);
    expect(approved.body.approvals[0]).toMatchObject({ email: people.boss.email, escalationTier: 1, asAdmin: false });
    await waitUntil('the request granted', async () => (await t.api('GET', `/api/v1/access-requests/${requestId}`)).body.status === 'GRANTED');
    await waitUntil('the grant email', async () => aboutRequest(mailsTo(people.analyst.email, /access is ready/), requestId).length === 1);
    // Every message about this request reached each person once; the webhook got each event once.
    for (const who of ['dana', 'boss']) {
      const subjects = aboutRequest(mailsTo(people[who].email), requestId).map((m) => m.subject);
      expect(new Set(subjects).size).toBe(subjects.length);
    }
    const ids = hooks.filter((h) => h.requestId === requestId).map((h) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(hooks.filter((h) => h.requestId === requestId && h.type === 'access_request.reminder').map((h) => h.data.reminder.number)).toEqual([1, 2]);
  });

  it('ALL_OF: the second group is asked only once the first approved', async () => {
    const requestId = await request('auditor');
    await waitUntil('the first group asked', async () => aboutRequest(mailsTo(people.dana.email, /^Approval needed/), requestId).length === 1);
    // Every delivery of the creation was recorded with the one to the first group: none is for the second.
    const targets = await t.control<{ target: string }>(
      `SELECT d.target FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id WHERE e.request_id = $1`,
      [requestId],
    );
    expect(targets.map((r) => r.target)).toEqual([`email:${people.dana.email}`]);
    expect(aboutRequest(mailsTo(people.sam.email), requestId)).toEqual([]);
    expect((await t.api('POST', `/api/v1/access-requests/${requestId}/approve`, { token: people.dana.token, body: {} })).status).toBe(200);
    const [next] = await waitUntil('the second group asked', async () => {
      const found = aboutRequest(mailsTo(people.sam.email, /^Your approval is needed now/), requestId);
      return found.length > 0 && found;
    });
    expect(next.text).toContain('"security"');
    expect(next.text).toContain(people.dana.email);
    const hook = await waitUntil('the partially_approved webhook', async () =>
      hooks.find((h) => h.type === 'access_request.partially_approved' && h.requestId === requestId),
    );
    expect(hook.verified).toBe(true);
    expect((await t.api('POST', `/api/v1/access-requests/${requestId}/approve`, { token: people.sam.token, body: {} })).status).toBe(200);
    await waitUntil('the request granted', async () => (await t.api('GET', `/api/v1/access-requests/${requestId}`)).body.status === 'GRANTED');
    expect(aboutRequest(mailsTo(people.sam.email), requestId)).toHaveLength(1);
    expect(aboutRequest(mailsTo(people.dana.email), requestId)).toHaveLength(1);
  });

  it('admin alerts reach ALERTS_EMAIL by email, once', async () => {
    await t.control("UPDATE access.audit_log SET target_name = 'tampered' WHERE seq = 2");
    const [alert] = await waitUntil(
      'the audit alert email',
      async () => {
        const found = mailsTo('ops@example.com', /audit chain is broken/);
        return found.length > 0 && found;
      },
      60_000,
    );
    expect(alert.text).toContain('https://latchkey.example.com/api/v1/audit/verify');
    // One event for the broken seq and one delivery per (event, receiver): one mail however often the chain is checked.
    const rows = await waitUntil('the alert delivery settled', async () => {
      const found = await t.control<{ target: string; status: string }>(
        `SELECT d.target, d.status FROM notifications.deliveries d JOIN notifications.events e ON e.id = d.event_id WHERE e.type = 'audit.chain_broken'`,
      );
      return found.every((r) => r.status !== 'PENDING') && found;
    });
    expect(rows).toEqual([{ target: 'email:ops@example.com', status: 'DELIVERED' }]);
    expect(mailsTo('ops@example.com', /audit chain is broken/)).toHaveLength(1);
  });
});
