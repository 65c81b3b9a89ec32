import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import {
  apiClient,
  createGroupFlow,
  createPgIntegration,
  createUser,
  freePort,
  PgCluster,
  PrivateNats,
  PrivateRedis,
  REPO_ROOT,
  SHARED_DATABASE_URL,
  startNatsServer,
  startPgCluster,
  startRedisServer,
  STARTUP_TIMEOUT_MS,
  TestStack,
  waitUntil,
  withDatabase,
} from '@latchkey/testing';

jest.setTimeout(300_000);

interface Hook {
  raw: string;
  headers: Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;
}

/**
 * `npm start` on a fresh install (its last step, dist/tools/start/start.js, on private NATS, Redis
 * and control database): the banner carries a one-time link that lets the bootstrap admin set a
 * password and sign in, and no service logs it; with SMTP_URL set, issue 14's notifications arrive
 * on the defaults (mail to the approver and the requester, signed webhooks).
 */
describe('npm start on a fresh install', () => {
  let nats: PrivateNats;
  let redis: PrivateRedis;
  let pg: PgCluster;
  let smtp: SMTPServer;
  let smtpPort: number;
  let receiver: Server;
  let child: ChildProcess | undefined;
  const dbName = `latchkey_start_e2e_${randomBytes(4).toString('hex')}`;
  const adminToken = `lk_${randomBytes(32).toString('base64url')}`;
  let base = '';
  let output = '';
  const mails: Array<{ mail: ParsedMail; at: number }> = [];
  const hooks: Hook[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    redis = await startRedisServer();
    smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _s, cb) => void simpleParser(stream).then((mail) => (mails.push({ mail, at: Date.now() }), cb()), cb),
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));
    // Records every message as it came: verified later with the endpoint's secret, which exists only once the endpoint does.
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        hooks.push({
          raw,
          headers: {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          },
        });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query('CREATE DATABASE app');
    await pg.query('CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int PRIMARY KEY);', undefined, 'app');
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    await nats?.stop();
    await redis?.stop();
    await pg?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    receiver?.closeAllConnections();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
    const admin = new Client({ connectionString: SHARED_DATABASE_URL });
    await admin.connect();
    await admin
      .query('SELECT format($1::text, $2::text) AS sql', ['DROP DATABASE IF EXISTS %I WITH (FORCE)', dbName])
      .then(({ rows }) => admin.query(rows[0].sql));
    await admin.end();
  });

  it('prints a one-time set-password link for the bootstrap admin, which works once', async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/tools/start/start.js')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
        LATCHKEY_DATABASE_URL: withDatabase(SHARED_DATABASE_URL, dbName),
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
        LATCHKEY_ADMIN_TOKEN: adminToken,
        PORT: String(port),
        HOST: '127.0.0.1',
        CONNECTOR_HEARTBEAT_SECONDS: '1',
        // Notifications on their defaults (EXPIRY_WARNING_MINUTES and the rest unset): only where mail goes and a loopback webhook receiver.
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = new Promise<void>((resolveBanner, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ctrl-C stops everything.')) resolveBanner();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`start exited with ${code}:\n${output.slice(-4000)}`)));
    });
    await running;

    expect(output).toContain(`console:     ${base}/`);
    const url = /set password: (\S+)/.exec(output)?.[1];
    expect(url).toMatch(new RegExp(`^${base}/set-password#token=lkl_[A-Za-z0-9_-]{43}$`));
    const token = decodeURIComponent(new URL(url!).hash.replace(/^#token=/, ''));

    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // The script for installs without npm start (Docker) makes a new link, replacing the banner's.
    const again = () =>
      spawnSync(process.execPath, [resolve(REPO_ROOT, 'dist/tools/start/bootstrap-link.js')], {
        env: { PATH: process.env.PATH, NATS_URL: nats.url, PORT: String(port) },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const fresh = again();
    expect(fresh.status).toBe(0);
    const freshUrl = /^\s+(http\S+)$/m.exec(fresh.stdout)?.[1];
    expect(freshUrl).toMatch(new RegExp(`^${base}/set-password#token=lkl_`));
    const freshToken = decodeURIComponent(new URL(freshUrl!).hash.replace(/^#token=/, ''));
    expect(freshToken).not.toBe(token);

    const password = 'the first admin password';
    expect((await post('/api/v1/auth/password', { token, password })).status).toBe(400);
    expect((await post('/api/v1/auth/password', { token: freshToken, password })).status).toBe(204);
    expect((await post('/api/v1/auth/password', { token: freshToken, password: 'a second try at it' })).status).toBe(400);
    expect((await post('/api/v1/auth/sign-in', { email: 'admin@latchkey.local', password })).status).toBe(200);
    const none = again();
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('already has a password');

    // The banner is the only place: no service's log line holds the token.
    const serviceLines = output.split('\n').filter((line) => /^[a-z-]+\s+\| /.test(line));
    expect(serviceLines.length).toBeGreaterThan(10);
    expect(serviceLines.join('\n')).not.toContain(token);
    expect(serviceLines.join('\n')).not.toContain(freshToken);
  });

  it('issue 14 on the defaults: the approver is mailed about a request, the requester when granted and before it ends, and signed webhooks verify', async () => {
    const t: Pick<TestStack, 'api'> = { api: apiClient(base, adminToken) };
    const mailsTo = (email: string, subject: RegExp) =>
      mails.filter(({ mail }) => (mail.to && !Array.isArray(mail.to) ? mail.to.text : '').includes(email) && subject.test(mail.subject ?? ''));

    const integrationId = await createPgIntegration(t, { port: pg.port, username: pg.superuser, password: pg.superuserPassword, dbname: 'app' });
    const resourceId = await waitUntil('the discovered table', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table`);
      return (list.body.items ?? []).find((r: { path: string; id: string }) => r.path === 'app/billing/invoices')?.id as string | undefined;
    });
    for (const name of ['analysts', 'data-team']) expect((await t.api('POST', '/api/v1/groups', { body: { name } })).status).toBe(201);
    const approver = await createUser(t, { name: 'Dana Approver', groups: ['data-team'] });
    const requester = await createUser(t, { name: 'Rita Requester', groups: ['analysts'] });
    await createGroupFlow(t, { name: 'analysts read billing', integrationId, requestors: 'analysts', approvers: 'data-team', maxDurationMinutes: 60 });
    const hook = await t.api('POST', '/api/v1/webhooks', {
      body: { name: 'receiver', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, format: 'standard', events: ['*'] },
    });
    expect(hook.status).toBe(201);
    // The standardwebhooks package checks each message's signature and timestamp; one it cannot verify fails the test.
    const verified = new Webhook(hook.body.secret);
    const messages = () => hooks.map((h) => verified.verify(h.raw, h.headers) as { type: string; data: { requestId: string } });

    // Ten minutes, as long as the default EXPIRY_WARNING_MINUTES: the warning is due the moment access is granted (ingest.service.ts, warnExpiring: a grant shorter than the window gets none, one exactly as long is warned at once).
    const posted = Date.now();
    const created = await t.api('POST', '/api/v1/access-requests', {
      token: requester.token,
      body: { items: [{ resourceId, permission: 'READ_ONLY' }], justification: 'ticket 14', durationMinutes: 10 },
    });
    expect(created.status).toBe(201);
    const requestId = created.body.requests[0].id as string;

    const [asked] = await waitUntil(
      "the approver's mail",
      async () => mailsTo(approver.user.email, /^Approval needed/).length > 0 && mailsTo(approver.user.email, /^Approval needed/),
    );
    console.log(`npm start: the approver's mail arrived ${((asked.at - posted) / 1000).toFixed(1)} s after the request was posted`);
    expect(asked.mail.subject).toContain(requester.user.email);
    expect(asked.mail.text).toContain('app/billing/invoices');
    expect(asked.mail.text).toContain(`${base}/portal/approvals/${requestId}`);

    expect((await t.api('POST', `/api/v1/access-requests/${requestId}/approve`, { token: approver.token, body: { reason: 'ok' } })).status).toBe(200);
    const [ready] = await waitUntil(
      "the requester's grant mail",
      async () => mailsTo(requester.user.email, /^Your access is ready$/).length > 0 && mailsTo(requester.user.email, /^Your access is ready$/),
    );
    expect(ready.mail.text).toContain(`${base}/portal/requests/${requestId}/connect`);
    const [warning] = await waitUntil(
      "the requester's expiry warning",
      async () => mailsTo(requester.user.email, /^Your access ends soon$/).length > 0 && mailsTo(requester.user.email, /^Your access ends soon$/),
    );
    expect(warning.mail.text).toContain(requestId);

    const details = await t.api('GET', `/api/v1/access-requests/${requestId}/access-details`, { token: requester.token });
    expect(details.body.password).toEqual(expect.any(String));
    for (const { mail } of mails) expect(`${mail.text}${mail.html}`).not.toContain(details.body.password);

    for (const type of ['access_request.created', 'access_request.granted']) {
      await waitUntil(`the verified ${type} webhook`, async () => messages().some((m) => m.type === type && m.data.requestId === requestId));
    }
    for (const h of hooks) expect(h.raw).not.toContain(details.body.password);
  });
});
