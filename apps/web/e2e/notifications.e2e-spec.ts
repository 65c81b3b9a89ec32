import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { TestStack } from '@latchkey/testing';
import { descriptionOf, expectAccessible, gone, launchChromium, pageText, screenshot, see, WAIT_MS } from './browser';

const ADMIN_EMAIL = 'admin@latchkey.local';
const ADMIN_PASSWORD = 'notifications admin password';

interface Received {
  path: string;
  id: string;
  type: string;
  /** Verified by the standardwebhooks package with one of the secrets the page showed. */
  verified: boolean;
}

/** A webhook receiver on loopback: /ok answers 200, /fail 500, /gone 410; every message is checked with the standardwebhooks package. */
class Receiver {
  readonly received: Received[] = [];
  readonly secrets: string[] = [];
  private server!: Server;
  port = 0;

  async start() {
    this.server = createServer(
      (req, res) =>
        void this.handle(req).then((status) =>
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'thanks, got it' : `failing on purpose (${status})`),
        ),
    );
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    const verified = this.secrets.some((s) => {
      try {
        new StandardWebhook(s).verify(raw, headers);
        return true;
      } catch {
        return false;
      }
    });
    const path = req.url ?? '/';
    this.received.push({ path, id: headers['webhook-id'], type: JSON.parse(raw).type, verified });
    return path === '/fail' ? 500 : path === '/gone' ? 410 : 200;
  }

  at(path: string) {
    return this.received.filter((r) => r.path === path);
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * The console's Notifications pages in a real browser against the whole stack and a real webhook
 * receiver on loopback: add an endpoint (secret shown once), send a test event and read the
 * delivery log, rotate the secret, watch a failing endpoint's delivery get dead-lettered and
 * redeliver it, and see an endpoint answering 410 turned off. Pages are checked with axe.
 */
describe('the notifications pages in a browser', () => {
  let t: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const receiver = new Receiver();
  const problems: string[] = [];

  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const check = async (name: string) => {
    await expectAccessible(page, name);
    await screenshot(page, name);
  };
  const addEndpoint = async (name: string, url: string, kind?: string) => {
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await see(heading('Notifications'));
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an endpoint' });
    await dialog.getByLabel('Name').fill(name);
    if (kind) await dialog.getByLabel('Kind').selectOption(kind);
    await dialog.getByLabel('URL').fill(url);
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await gone(dialog);
    return dialog;
  };
  const openEndpoint = async (name: string) => {
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByRole('link', { name }).click();
    await see(heading(`Endpoint: ${name}`));
  };
  const attemptsOf = (type: string) => page.getByRole('list', { name: new RegExp(`^Attempts of ${type.replace('.', '\\.')}`) });

  beforeAll(async () => {
    await receiver.start();
    t = await startTestStack({ env: { WEBHOOK_RETRY_SCHEDULE: '0,1,1', WEBHOOK_ALLOW_PRIVATE_URLS: 'true', NOTIFICATIONS_SWEEP_INTERVAL_SECONDS: '1' } });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()))
        problems.push(`console: ${msg.text()}`);
    });
    // The bootstrap admin sets a password with a one-time link and signs in.
    const me = await t.api('GET', '/api/v1/me');
    const invite = await t.api('POST', `/api/v1/users/${me.body.id}/invite`);
    const token = decodeURIComponent(invite.body.url.split('#token=')[1]);
    expect((await t.api('POST', '/api/v1/auth/password', { token: null, body: { token, password: ADMIN_PASSWORD } })).status).toBe(204);
    await page.goto(`${t.url}/sign-in`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await see(heading('Catalog'));
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.dispose();
    await receiver.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('adds an endpoint: the URL is checked as typed, the signing secret is shown once', async () => {
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await see(heading('Notifications'));
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an endpoint' });
    await dialog.getByLabel('URL').fill('ftp://example.com/hook');
    expect(await descriptionOf(dialog.getByLabel('URL'))).toContain('must be an absolute http:// or https:// URL');
    await dialog.getByLabel('Every event type (*)').uncheck();
    await dialog.getByRole('checkbox', { name: 'access_request.created' }).check();
    await dialog.getByRole('checkbox', { name: 'access_request.granted' }).check();
    await check('notifications-add');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await gone(dialog);

    await addEndpoint('Receiver ok', receiver.url('/ok'));
    const secretBox = page.getByRole('textbox', { name: 'Signing secret' });
    await see(secretBox);
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^whsec_/);
    receiver.secrets.push(secret);
    await check('notifications-secret');
    await page.getByRole('button', { name: 'Done, hide the secret' }).click();
    await gone(secretBox);
    await see(page.getByRole('row').filter({ hasText: 'Receiver ok' }).filter({ hasText: 'active' }));
    expect(await pageText(page)).not.toContain(secret);
    await page.reload();
    await see(page.getByRole('row').filter({ hasText: 'Receiver ok' }));
    expect(await pageText(page)).not.toContain(secret);
    await check('notifications');
  });

  it('sends a test event: the receiver verifies it and the delivery log shows the attempt; a rotated secret signs the next one', async () => {
    await openEndpoint('Receiver ok');
    await page.getByRole('button', { name: 'Send a test event' }).click();
    const row = page.getByRole('row').filter({ hasText: 'webhook.test' });
    await see(row.getByText('DELIVERED'));
    expect(await attemptsOf('webhook.test').first().textContent()).toMatch(/#1 .*: 200 in \d+ ms\s*thanks, got it/);
    await waitUntil('the receiver got the test event', async () => receiver.at('/ok').length === 1, WAIT_MS);
    expect(receiver.at('/ok')[0]).toMatchObject({ type: 'webhook.test', verified: true });
    await check('notification-endpoint');

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const secretBox = page.getByRole('textbox', { name: 'New signing secret' });
    await see(secretBox);
    const rotated = await secretBox.inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(receiver.secrets).not.toContain(rotated);
    await page.getByRole('button', { name: 'Done, hide the secret' }).click();
    await gone(secretBox);
    await see(page.getByText(/messages carry a signature with the previous secret as well/));
    // Only the new secret is known to the receiver now: the message must carry its signature.
    receiver.secrets.splice(0, receiver.secrets.length, rotated);
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await waitUntil('the second test event', async () => receiver.at('/ok').length === 2, WAIT_MS);
    expect(receiver.at('/ok')[1]).toMatchObject({ type: 'webhook.test', verified: true });
    await waitUntil(
      'both deliveries shown',
      async () => (await page.getByRole('row').filter({ hasText: 'webhook.test' }).filter({ hasText: 'DELIVERED' }).count()) === 2,
      WAIT_MS,
    );
  });

  it('dead-letters a delivery its endpoint keeps failing, shows every attempt, and redelivers it with the same webhook-id', async () => {
    await addEndpoint('Receiver failing', receiver.url('/fail'));
    await page.getByRole('button', { name: 'Done, hide the secret' }).click();
    await openEndpoint('Receiver failing');
    await page.getByRole('button', { name: 'Send a test event' }).click();
    const row = page.getByRole('row').filter({ hasText: 'webhook.test' });
    await see(row.getByText('DEAD'), 120_000);
    await see(row.getByText(/dead-lettered/));
    const attempts = await attemptsOf('webhook.test').first().textContent();
    expect(attempts).toMatch(/#1 .*: 500 in \d+ ms\s*failing on purpose \(500\)/);
    expect(attempts).toContain('#3');
    await page.getByLabel('Delivery status').selectOption('DEAD');
    await see(row.getByText('DEAD'));
    await page.getByLabel('Delivery status').selectOption('DELIVERED');
    await see(page.getByText('No delivery with status DELIVERED yet.'));
    await page.getByLabel('Delivery status').selectOption('');
    await check('notification-dead-letter');

    const firstId = receiver.at('/fail')[0].id;
    expect(new Set(receiver.at('/fail').map((r) => r.id))).toEqual(new Set([firstId]));
    await row.getByRole('button', { name: /^Redeliver webhook\.test/ }).click();
    await waitUntil('the redelivery reached the receiver', async () => receiver.at('/fail').length > 3, WAIT_MS);
    expect(new Set(receiver.at('/fail').map((r) => r.id))).toEqual(new Set([firstId]));
    await see(row.getByText('DEAD'), 120_000);
    await waitUntil(
      'the log shows the attempts of the redelivery',
      async () => ((await attemptsOf('webhook.test').first().textContent()) ?? '').includes('#4'),
      WAIT_MS,
    );
  });

  it('shows an endpoint that answered 410 Gone as turned off by Latchkey, with the reason', async () => {
    await addEndpoint('Receiver gone', receiver.url('/gone'));
    await page.getByRole('button', { name: 'Done, hide the secret' }).click();
    await openEndpoint('Receiver gone');
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await see(
      page
        .getByRole('row')
        .filter({ hasText: 'webhook.test' })
        .getByText(/DEAD|DELIVERED/),
      120_000,
    );
    await page.reload();
    await see(page.getByRole('alert').filter({ hasText: 'Latchkey turned this endpoint off' }));
    await see(page.getByText('disabled by Latchkey'));
    await check('notification-gone');
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await see(page.getByRole('row').filter({ hasText: 'Receiver gone' }).filter({ hasText: 'disabled by Latchkey' }));
  });

  it('adds a Slack channel (no signing secret) and deletes an endpoint after confirming', async () => {
    await addEndpoint('Ops channel', receiver.url('/slack/T000/B000/XXXX'), 'slack');
    await see(page.getByRole('status').filter({ hasText: 'Ops channel was added.' }));
    expect(await page.getByRole('textbox', { name: 'Signing secret' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await see(page.getByRole('row').filter({ hasText: 'Ops channel' }).filter({ hasText: 'Slack channel' }));
    await openEndpoint('Ops channel');
    expect(await page.getByRole('button', { name: 'Rotate secret' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Ops channel?' });
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await see(heading('Notifications'));
    await gone(page.getByRole('row').filter({ hasText: 'Ops channel' }));
    expect((await t.api('GET', '/api/v1/webhooks')).body.items.map((w: { name: string }) => w.name)).not.toContain('Ops channel');
  });
});
