import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  freePort,
  PrivateNats,
  PrivateRedis,
  REPO_ROOT,
  startNatsServer,
  startPgCluster,
  startRedisServer,
  STARTUP_TIMEOUT_MS,
  waitUntil,
} from '@latchkey/testing';
import type { PgCluster } from '@latchkey/testing';
import { expectAccessible, gone, launchChromium, see, WAIT_MS } from './browser';

const run = promisify(execFile);

/** The database `npm start -- --demo` creates beside the control database (tools/start/demo.ts). */
const DEMO_DATABASE = 'latchkey_demo';

const ADMIN_EMAIL = 'admin@latchkey.local';
const PASSWORDS = { admin: 'the demo admin password', ana: 'ana sets this one herself', bo: 'bo approves with this one' };

/**
 * The "done when", in a browser against `npm start -- --demo` (its last step,
 * dist/tools/start/start.js --demo, on a private PostgreSQL that holds both the control database and
 * the demo database, and private NATS and Redis): the bootstrap admin sets a password with the
 * banner's link, adds Ana to analysts and Bo to finance in the console and invites them (one-time
 * links); each sets a password and signs in; Ana requests the demo table, Bo (finance owns it by its
 * comment tag) approves in the portal, and Ana connects with the psql command the page shows (a
 * real login, seen in pg_stat_activity, with the login role in pg_roles).
 */
describe('npm start -- --demo, walked through in a browser', () => {
  let pg: PgCluster;
  let nats: PrivateNats;
  let redis: PrivateRedis;
  let child: ChildProcess | undefined;
  let base = '';
  let output = '';
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const links: Record<'ana' | 'bo', string> = { ana: '', bo: '' };
  let ana: Page;
  let bo: Page;
  let admin: Page;
  let requestId = '';
  const problems: string[] = [];

  const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const newPage = async (who: string) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on('pageerror', (err) => problems.push(`${who} page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()))
        problems.push(`${who} console: ${msg.text()}`);
    });
    return page;
  };
  /** Follows a one-time link: sets the password, then signs in with it. */
  const setPasswordAndSignIn = async (page: Page, url: string, email: string, password: string) => {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await see(heading(page, 'Set your password'));
    await page.getByLabel('New password').fill(password);
    await page.getByLabel('Repeat the password').fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await see(page.getByText('Your password is set. Sign in with it.'));
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  beforeAll(async () => {
    [pg, nats, redis] = await Promise.all([startPgCluster({ hba: 'scram' }), startNatsServer(), startRedisServer()]);
    const control = new URL(`postgres://127.0.0.1:${pg.port}/latchkey_walk`);
    control.username = pg.superuser;
    control.password = pg.superuserPassword;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/tools/start/start.js'), '--demo'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
        LATCHKEY_DATABASE_URL: control.toString(),
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
        LATCHKEY_ADMIN_TOKEN: `lk_${randomBytes(32).toString('base64url')}`,
        PORT: String(port),
        HOST: '127.0.0.1',
        CONNECTOR_HEARTBEAT_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolveBanner, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ctrl-C stops everything.')) resolveBanner();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`npm start -- --demo exited with ${code}:\n${output.slice(-4000)}`)));
    });
    browser = await launchChromium();
    [admin, ana, bo] = await Promise.all([newPage('admin'), newPage('ana'), newPage('bo')]);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    await nats?.stop();
    await redis?.stop();
    await pg?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('the demo is registered; the admin sets a password with the banner link and signs in', async () => {
    expect(output).toMatch(/demo: {8}integration "Demo PostgreSQL" created \([0-9a-f-]{36}\), status ACTIVE/);
    const link = /set password: (\S+)/.exec(output)?.[1];
    expect(link).toMatch(new RegExp(`^${base}/set-password#token=`));
    await setPasswordAndSignIn(admin, link!, ADMIN_EMAIL, PASSWORDS.admin);
    await see(heading(admin, 'Catalog'));
  });

  it('the admin adds Ana to analysts and Bo to finance in the console and invites them (one-time links)', async () => {
    await admin.getByRole('link', { name: 'People' }).click();
    await see(heading(admin, 'People'));
    for (const [who, email, name, group] of [
      ['ana', 'ana@example.com', 'Ana Analyst', 'analysts'],
      ['bo', 'bo@example.com', 'Bo Finance', 'finance'],
    ] as const) {
      await admin.getByRole('button', { name: 'Add a user' }).click();
      const dialog = admin.getByRole('dialog', { name: 'Add a user' });
      await dialog.getByLabel('Email').fill(email);
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByLabel('Groups').fill(group);
      await dialog.getByRole('button', { name: 'Add user' }).click();
      await gone(dialog);
      await see(admin.getByRole('row').filter({ hasText: email }));
      await admin.getByRole('button', { name: `Invite ${email}` }).click();
      const link = admin.getByRole('textbox', { name: 'One-time link' });
      await see(link);
      links[who] = await link.inputValue();
      expect(links[who]).toMatch(new RegExp(`^${base}/set-password#token=`));
      await admin.getByRole('button', { name: 'Done, hide the link' }).click();
      await gone(link);
    }
  });

  it('Ana sets her password, signs in and requests the demo table; the dry run names the approver', async () => {
    await setPasswordAndSignIn(ana, links.ana, 'ana@example.com', PASSWORDS.ana);
    await see(heading(ana, 'New request'));
    await ana.getByLabel('Search resources').fill('invoices');
    await ana.getByRole('checkbox', { name: `Pick ${DEMO_DATABASE}/sales/invoices`, exact: true }).check();
    await ana.getByLabel('Duration (minutes)').fill('30');
    await ana.getByLabel('Justification').fill('quarterly numbers');
    await ana.getByRole('button', { name: 'Check who approves' }).click();
    await see(ana.getByRole('status').filter({ hasText: 'This request can be made' }));
    // Bo is in finance, which owns the table by its comment tag (latchkey:owner=finance).
    expect(await ana.getByRole('status').filter({ hasText: 'This request can be made' }).textContent()).toContain('bo@example.com');
    await expectAccessible(ana, 'demo-new-request');
    await ana.getByRole('button', { name: 'Request access' }).click();
    await see(heading(ana, `Request: READ_ONLY on ${DEMO_DATABASE}/sales/invoices`));
    await see(ana.getByRole('status').filter({ hasText: 'PENDING' }));
    requestId = ana.url().split('/').pop()!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('Bo sets his password, signs in and approves from Pending approvals', async () => {
    await setPasswordAndSignIn(bo, links.bo, 'bo@example.com', PASSWORDS.bo);
    await see(heading(bo, 'New request'));
    await bo.getByRole('link', { name: 'Pending approvals' }).click();
    const card = bo.getByRole('article', { name: `ana@example.com: READ_ONLY on ${DEMO_DATABASE}/sales/invoices` });
    await see(card);
    expect(await card.textContent()).toContain('quarterly numbers');
    await expectAccessible(bo, 'demo-approvals');
    await card.getByRole('button', { name: 'Approve' }).click();
    await see(bo.getByText('Nothing waits for you.'));
  });

  it('Ana sees GRANTED without reloading and connects with the psql command the page shows', async () => {
    await see(ana.getByRole('status').filter({ hasText: 'GRANTED' }));
    await ana.getByRole('link', { name: 'Connect' }).click();
    await see(heading(ana, 'Connect'));
    await ana.getByRole('button', { name: 'Reveal password and access details' }).click();
    const box = ana.getByRole('textbox', { name: 'Password' });
    await see(box);
    const password = await box.inputValue();
    const psql = (await ana.getByRole('figure', { name: 'psql command' }).locator('code').textContent())!.trim();
    expect(psql).toMatch(/^psql '.*dbname=latchkey_demo.*'$/);
    const username = /user=(\S+)/.exec(psql)![1];
    await expectAccessible(ana, 'demo-connect');

    // The shown command, as Ana pastes it into a shell, with a query added; psql reads the password from PGPASSWORD.
    const { stdout } = await run('bash', ['-c', `${psql} -X -A -t -c 'SELECT current_user, count(*) FROM sales.invoices'`], {
      env: { PATH: process.env.PATH, PGPASSWORD: password },
      timeout: WAIT_MS,
    });
    expect(stdout.trim()).toBe(`${username}|0`);

    // A session of her own, as PostgreSQL sees it.
    const session = new Client({ host: '127.0.0.1', port: pg.port, user: username, password, database: DEMO_DATABASE });
    session.on('error', () => undefined);
    await session.connect();
    try {
      const seen = await waitUntil(
        'her session in pg_stat_activity',
        async () => {
          const rows = await pg.query<{ datname: string }>('SELECT datname FROM pg_stat_activity WHERE usename = $1', [username]);
          return rows.length > 0 && rows;
        },
        WAIT_MS,
      );
      expect(seen.map((r) => r.datname)).toEqual([DEMO_DATABASE]);
      const [role] = await pg.query<{ rolcanlogin: boolean; rolsuper: boolean; rolcreaterole: boolean }>(
        'SELECT rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1',
        [username],
      );
      expect(role).toEqual({ rolcanlogin: true, rolsuper: false, rolcreaterole: false });
      // Only what the flow offers: hr is not hers.
      await expect(session.query('SELECT count(*) FROM hr.employees')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await session.end();
    }
  });
});
