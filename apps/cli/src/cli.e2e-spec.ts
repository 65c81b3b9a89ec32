import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createUser, PgCluster, REPO_ROOT, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

jest.setTimeout(300_000);

const CLI = join(REPO_ROOT, 'dist/apps/cli/src/main.js');
const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built `latchkey` as a subprocess against the whole stack and a private scram-only target:
 * what a person at a terminal does, from login to psql, and what happens when access is taken back.
 */
describe('latchkey CLI', () => {
  let pg: PgCluster;
  let t: TestStack;
  let requester: { token: string; email: string };
  let approverToken: string;
  const ids: Record<string, string> = {};
  const home = mkdtempSync(join(tmpdir(), 'latchkey-cli-home-'));
  const env = () => ({ PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1' });

  /** `live`: the command's stderr so far, for a test that acts while it runs. */
  const cli = (args: string[], extraEnv: Record<string, string> = {}, live: { stderr: string } = { stderr: '' }): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (live.stderr = stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE shop');
    await pg.query(
      `CREATE SCHEMA sales; CREATE TABLE sales.orders (id int); INSERT INTO sales.orders VALUES (1), (2), (3); CREATE SCHEMA hr; CREATE TABLE hr.salaries (id int);`,
      undefined,
      'shop',
    );
    t = await startTestStack();
    const made = await createUser(t, { groups: ['eng'] });
    requester = { token: made.token, email: made.user.email };
    approverToken = (await createUser(t, { groups: ['dba'] })).token;
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(integration.body.status).toBe('ACTIVE');
    await waitUntil('discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integration.body.id}&pageSize=100`);
      for (const r of list.body.items ?? []) ids[r.path] = r.id;
      return ids['shop/sales/orders'] && ids['shop/hr/salaries'];
    });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'sales for engineers',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['eng'] }] },
        targets: [
          {
            integrationId: integration.body.id,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'name', values: ['shop/sales/*'] },
          },
        ],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['dba'] }] },
        maxDurationMinutes: 120,
      },
    });
    expect(flow.status).toBe(201);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('prints its version and exits 64 on bad arguments', async () => {
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version}\n` });
    const bad = await cli(['request', 'x', '--duration', 'soon']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--duration must be a duration');
  });

  it('logs in, keeps the token in a 0600 file, and knows who I am', async () => {
    const login = await cli(['login', t.url], { LATCHKEY_TOKEN: requester.token });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const file = join(home, 'config/latchkey/config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles.default).toEqual({ url: t.url, token: requester.token });
    const me = await cli(['whoami', '--output', 'json']);
    expect(me.code).toBe(0);
    expect(JSON.parse(me.stdout).email).toBe(requester.email);

    const refused = await cli(['whoami'], { LATCHKEY_TOKEN: 'lk_not-a-token' });
    expect(refused.code).toBe(7);
  });

  it('lists what I may request', async () => {
    const list = await cli(['requestable', 'sales', '--output', 'json']);
    expect(list.code).toBe(0);
    const items = JSON.parse(list.stdout).items;
    expect(items.map((i: { resource: { path: string } }) => i.resource.path)).toEqual(['shop/sales/orders']);
    const text = await cli(['requestable']);
    expect(text.stdout).toMatch(/shop\/sales\/orders\s+table\s+READ_ONLY/);
    expect(text.stdout).not.toContain('\u001b[');
  });

  it('a denied request prints each reason and exits 3, creating nothing', async () => {
    const denied = await cli(['request', ids['shop/hr/salaries'], '--permission', 'READ_ONLY', '--reason', 'curious']);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain('not allowed');
    // A resource given by id that nothing offers: the server's dry run says why, item by item.
    expect(denied.stderr).toMatch(new RegExp(`${ids['shop/hr/salaries']} \\(READ_ONLY\\):\\n\\s+- \\S`));
    const mine = await t.api('GET', '/api/v1/access-requests', { token: requester.token });
    expect(mine.body.items).toEqual([]);
  });

  let requestId: string;
  it('request --wait shows the approvers, waits while an approver approves, and ends GRANTED', async () => {
    const live = { stderr: '' };
    const running = cli(['request', 'shop/sales/orders', '--duration', '30m', '--reason', 'INC-42', '--wait', '--output', 'json'], {}, live);
    // Approved only once the command says it waits: approved sooner, its first read would find it APPROVED already.
    await waitUntil('the command waiting for approval', async () => live.stderr.includes('Waiting for approval'));
    let pendingId: string | undefined;
    await waitUntil('a request waiting for the approver', async () => {
      const waiting = await t.api('GET', '/api/v1/access-requests?awaitingMyApproval=true', { token: approverToken });
      pendingId = waiting.body.items?.[0]?.id;
      return pendingId;
    });
    const approved = await t.api('POST', `/api/v1/access-requests/${pendingId}/approve`, { token: approverToken, body: { reason: 'ok' } });
    expect(approved.status).toBe(200);
    const done = await running;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('via flow "sales for engineers": any of:');
    expect(done.stderr).toContain('Waiting for approval');
    const granted = JSON.parse(done.stdout).requests[0];
    expect(granted).toMatchObject({ id: pendingId, status: 'GRANTED' });
    requestId = granted.id;
  });

  it('connect starts psql under a terminal, runs a query, and exits 6 when the grant is revoked mid-session', async () => {
    const childEnv = { ...env(), TERM: 'xterm' };
    // psql arguments after `--` reach psql; no pager on the test's terminal of unknown size.
    const command = `${process.execPath} ${CLI} connect ${requestId} -- --pset=pager=off`;
    const session: ChildProcess = spawn('script', ['-qefc', command, '/dev/null'], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    session.stdout!.on('data', (d) => (screen += d));
    session.stderr!.on('data', (d) => (screen += d));
    const exited = new Promise<number | null>((resolve) => session.on('exit', (code) => resolve(code)));
    await waitUntil('the psql prompt', async () => /shop=>/.test(screen), 120_000);
    session.stdin!.write("SELECT 'rows-' || count(*) AS answer FROM sales.orders;\n");
    await waitUntil('the query answer', async () => screen.includes('rows-3'), 60_000);

    // The password is in psql's environment only: not in any process's arguments, not in a file.
    const psqlPid = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .find((line) => /\bpsql --host/.test(line) && line.includes(`--port ${pg.port} `))!
      .trim()
      .split(/\s+/)[0];
    const environ = readFileSync(`/proc/${psqlPid}/environ`, 'utf8').split('\0');
    const password = environ.find((e) => e.startsWith('PGPASSWORD='))!.slice('PGPASSWORD='.length);
    expect(password.length).toBeGreaterThan(10);
    expect(environ).toContain('PGSSLMODE=disable');
    expect(execFileSync('ps', ['-eww', '-o', 'args='], { encoding: 'utf8' })).not.toContain(password);
    const written = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? written(join(dir, e.name)) : [readFileSync(join(dir, e.name), 'utf8')]));
    expect(written(home).join('\n')).not.toContain(password);
    expect(screen).not.toContain(password);

    const revoked = await t.api('POST', `/api/v1/access-requests/${requestId}/revoke`, { body: { reason: 'incident over' } });
    expect(revoked.status).toBe(200);
    const code = await exited;
    expect(screen).toContain('your access ended');
    expect(screen).toContain('was revoked');
    expect(code).toBe(6);
  });

  it('connect --print after the password was read: refuses without --reset, and never shows it twice', async () => {
    const again = await cli(['request', 'shop/sales/orders', '--duration', '30m', '--reason', 'again', '--no-wait', '--output', 'json']);
    expect(again.code).toBe(0);
    const id = JSON.parse(again.stdout).requests[0].id;
    await t.api('POST', `/api/v1/access-requests/${id}/approve`, { token: approverToken, body: {} });
    const first = await cli(['connect', id, '--print', '--output', 'json', '--timeout', '2m']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('warning: this prints a password');
    const details = JSON.parse(first.stdout);
    expect(details.password).toEqual(expect.any(String));
    const second = await cli(['connect', id, '--print']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('--reset');
    const reset = await cli(['connect', id, '--print', '--reset', '--output', 'json']);
    expect(reset.code).toBe(0);
    const fresh = JSON.parse(reset.stdout).password;
    expect(fresh).toEqual(expect.any(String));
    expect(fresh).not.toBe(details.password);
  });

  it('connect to a resource an automatic flow grants: one request whose answer brings the password, which opens the database', async () => {
    const oncall = await createUser(t, { groups: ['oncall'] });
    const integrationId = (await t.api('GET', `/api/v1/resources/${ids['shop/hr/salaries']}`)).body.integrationId;
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'hr for on-call, at once',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['oncall'] }] },
        targets: [
          { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['shop/hr/*'] } },
        ],
        approvers: null,
        maxDurationMinutes: 60,
      },
    });
    expect(flow.status).toBe(201);
    const run = await cli(['connect', 'shop/hr/salaries', '--print', '--output', 'json', '--duration', '15m', '--reason', 'INC-7'], {
      LATCHKEY_TOKEN: oncall.token,
      LATCHKEY_URL: t.url,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('is GRANTED');
    expect(run.stderr).not.toContain('Waiting');
    const details = JSON.parse(run.stdout);
    const session = new Client({ host: '127.0.0.1', port: pg.port, user: details.username, password: details.password, database: 'shop' });
    await session.connect();
    expect((await session.query('SELECT count(*)::int AS n FROM hr.salaries')).rows[0].n).toBe(0);
    await session.end();
    // The password was read once, by the request's own answer: the access details keep it no more.
    const read = await t.api('GET', `/api/v1/access-requests/${details.requestId}/access-details`, { token: oncall.token });
    expect(read.body).toMatchObject({ password: null, passwordViewedAt: expect.any(String) });
    const audit = await t.api('GET', `/api/v1/audit?targetId=${details.requestId}&action=request.credentials-viewed`);
    expect(audit.body.items).toEqual([expect.objectContaining({ details: { status: 'GRANTED', inCreationAnswer: true } })]);
  });
});
