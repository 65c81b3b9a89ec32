import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { quoteIdent } from '@latchkey/pg-access';
import { createUser, type PgCluster, REPO_ROOT, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, type TestStack, waitUntil } from '@latchkey/testing';
import { createDemo, DEMO_CONNECTOR_ROLE, DEMO_DATABASE } from './demo';

/**
 * The demo as `npm start -- --demo` makes it, on the instance that holds Latchkey's own control
 * database: nothing of the control database is discovered, offered or given a fix; and, through
 * the gateway, no request reaches a role that is or reaches more than a grant may give, whether
 * discovery knew it (refused at request) or not (refused at grant, nothing granted).
 */
describe('the demo beside the control database; escalation through role membership', () => {
  let pg: PgCluster;
  let t: TestStack;
  let controlDb: string;
  let integrationId: string;
  let analyst: { token: string };
  const roleIds = new Map<string, string>();
  let refused = 0;

  const asAnalyst = (method: string, path: string, body?: unknown) => t.api(method, path, { token: analyst.token, ...(body === undefined ? {} : { body }) });
  const login = async (username: string, password: string) => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: username, password, database: DEMO_DATABASE });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const waitStatus = (id: string, status: string) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
        return r.status === status && r;
      },
      60_000,
    );

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(
      [
        'CREATE ROLE esc_admin SUPERUSER NOLOGIN',
        'CREATE ROLE esc_ops NOLOGIN IN ROLE esc_admin',
        'CREATE ROLE esc_files NOLOGIN IN ROLE pg_read_server_files',
        'CREATE ROLE esc_reader NOLOGIN',
        'CREATE ROLE esc_late NOLOGIN',
      ].join(';\n'),
    );
    const server = new URL(`postgres://127.0.0.1:${pg.port}/postgres`);
    server.username = pg.superuser;
    server.password = pg.superuserPassword;
    t = await startTestStack({ controlServerUrl: server.toString(), env: { ACCESS_SWEEP_INTERVAL_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' } });
    controlDb = decodeURIComponent(new URL(t.databaseUrl).pathname.slice(1));

    const demo = await createDemo(t.url, t.adminToken, t.databaseUrl);
    integrationId = demo.integrationId;
    expect(demo.status).toBe('ACTIVE');

    const user = await t.api('POST', '/api/v1/users', {
      body: { email: `analyst-${randomBytes(3).toString('hex')}@example.com`, name: 'Analyst', groups: ['analysts'] },
    });
    expect(user.status).toBe(201);
    const token = await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: 'e2e' } });
    analyst = { token: token.body.token };
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts join roles',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-role', permissions: ['MEMBER'] }],
        approvers: null,
        maxDurationMinutes: 60,
        settings: { justificationRequired: false, approverReasonRequired: false, maxExtensions: 0 },
      },
    });
    expect(flow.status).toBe(201);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    console.log(`escalation attempts refused through the gateway (PostgreSQL 15): ${refused}`);
    await t?.dispose();
    await pg?.stop();
  });

  it("marks the control database, and the demo's connector cannot connect to it", async () => {
    const [row] = await t.control<{ comment: string }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = current_database()`,
    );
    expect(row!.comment.split('\n')).toContain('latchkey:control-database=true');
    const rows = await pg.query<{ datname: string; can: boolean; privileged: boolean }>(
      `SELECT datname, has_database_privilege($1, oid, 'CONNECT') AS can, has_database_privilege($1, oid, 'CREATE WITH GRANT OPTION') AS privileged
         FROM pg_database WHERE datname = ANY($2::text[]) ORDER BY datname`,
      [DEMO_CONNECTOR_ROLE, [controlDb, DEMO_DATABASE, 'postgres']],
    );
    expect(Object.fromEntries(rows.map((r) => [r.datname, [r.can, r.privileged]]))).toEqual({
      [controlDb]: [false, false],
      [DEMO_DATABASE]: [true, true],
      postgres: [true, false],
    });
  });

  it('never discovers the control database nor suggests fixes for it', async () => {
    const all = await waitUntil('the demo discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&pageSize=500`);
      const items = (list.body.items ?? []) as Array<{ id: string; path: string; type: string; parts: { name: string; database?: string } }>;
      return items.some((r) => r.path === `${DEMO_DATABASE}/sales/invoices`) && items.some((r) => r.path === 'esc_late') && items;
    });
    for (const r of all) if (r.type === 'postgresql-role') roleIds.set(r.parts.name, r.id);
    expect(all.filter((r) => r.path === controlDb || r.parts.database === controlDb)).toEqual([]);
    const integration = await t.api('GET', `/api/v1/integrations/${integrationId}`);
    expect(JSON.stringify(integration.body.lastTest)).not.toContain(controlDb);
    expect(integration.body.lastTest.checks.some((c: { target?: string }) => c.target === DEMO_DATABASE)).toBe(true);
  });

  it('shows admins why a role is not offered, and refuses the request with that reason', async () => {
    const reasons = new Map<string, RegExp>([
      ['esc_ops', /^"esc_ops" is a member of "esc_admin" \(directly\), which is a superuser$/],
      ['esc_admin', /^"esc_admin" is a superuser$/],
      ['esc_files', /"pg_read_server_files" \(directly\), which is PostgreSQL's predefined role that reads any file/],
      [DEMO_CONNECTOR_ROLE, /has CREATEROLE/],
    ]);
    for (const [name, reason] of reasons) {
      const resource = await t.api('GET', `/api/v1/resources/${roleIds.get(name)}`);
      expect({ name, permissions: resource.body.permissions, reason: resource.body.unrequestableReason }).toEqual({
        name,
        permissions: [],
        reason: expect.stringMatching(reason),
      });
      const res = await asAnalyst('POST', '/api/v1/access-requests', { items: [{ resourceId: roleIds.get(name), permission: 'MEMBER' }], durationMinutes: 30 });
      expect(res.status).toBe(400);
      expect(res.body.details.issues).toEqual([
        {
          field: 'items.0.resourceId',
          rule: expect.stringMatching(new RegExp(`^must be a role Latchkey hands out \\(.*${reason.source.replace(/^\^|\$$/g, '')}`)),
        },
      ]);
      refused += 1;
    }
    const reader = await t.api('GET', `/api/v1/resources/${roleIds.get('esc_reader')}`);
    expect(reader.body).toMatchObject({ permissions: ['MEMBER'], unrequestableReason: null });
  });

  it('refuses at grant time a role that became dangerous after discovery; a real login shows nothing was granted', async () => {
    const safe = await asAnalyst('POST', '/api/v1/access-requests', {
      items: [{ resourceId: roleIds.get('esc_reader'), permission: 'MEMBER' }],
      durationMinutes: 30,
    });
    expect(safe.status).toBe(201);
    await waitStatus(safe.body.requests[0].id, 'GRANTED');
    const details = (await asAnalyst('GET', `/api/v1/access-requests/${safe.body.requests[0].id}/access-details`)).body;

    await pg.query('GRANT esc_ops TO esc_late');
    const late = await asAnalyst('POST', '/api/v1/access-requests', {
      items: [{ resourceId: roleIds.get('esc_late'), permission: 'MEMBER' }],
      durationMinutes: 30,
    });
    expect(late.status).toBe(201);
    const failed = await waitStatus(late.body.requests[0].id, 'FAILED');
    expect(failed.statusReason).toMatch(
      /Latchkey never hands out membership in "esc_late": "esc_late" is a member of "esc_admin" \(through 1 other role\), which is a superuser/,
    );
    refused += 1;

    const session = await login(details.username, details.password);
    try {
      const { rows } = await session.query<{ rolname: string }>(
        'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY 1',
      );
      expect(rows.map((r) => r.rolname)).toEqual(['esc_reader', 'latchkey_managed']);
      await session.query('SET ROLE esc_reader');
      await session.query('RESET ROLE');
      for (const role of ['esc_late', 'esc_ops', 'esc_admin']) {
        await expect(session.query(`SET ROLE ${quoteIdent(role)}`)).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await session.end();
    }
  });

  it("refuses Latchkey's own roles on the admin grants route, granting nothing", async () => {
    const identity = { id: 'eve-e2e', email: 'eve@example.com' };
    const table = { resourceType: 'postgresql-table', database: DEMO_DATABASE, schema: 'sales', table: 'invoices', permission: 'READ_ONLY' };
    const first = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, { body: { identity, items: [table], durationMinutes: 30 } });
    expect(first.body.grant.status).toBe('ACTIVE');
    const eve = first.body.credentials.username as string;
    const [profile] = await pg.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'lk\\_p\\_tb\\_ro\\_invoices\\_%'`);
    const [otherPerson] = await pg.query<{ rolname: string }>(
      `SELECT m.rolname FROM pg_roles m WHERE pg_has_role(m.oid, 'latchkey_managed', 'MEMBER') AND m.rolname LIKE 'lk\\_%' AND m.rolname <> $1 AND m.rolname NOT LIKE 'lk\\_p\\_%'`,
      [eve],
    );
    for (const role of ['latchkey_managed', 'latchkey_orphan_owner', profile!.rolname, otherPerson!.rolname, 'esc_ops', 'pg_execute_server_program']) {
      const res = await t.api('POST', `/api/v1/integrations/${integrationId}/grants`, {
        body: { identity, items: [{ resourceType: 'postgresql-role', database: DEMO_DATABASE, role, permission: 'MEMBER' }], durationMinutes: 30 },
      });
      expect({ role, status: res.body.grant?.status, error: res.body.grant?.lastError }).toEqual({
        role,
        status: 'FAILED',
        error: expect.stringContaining(`Latchkey never hands out membership in ${quoteIdent(role)}`),
      });
      refused += 1;
    }
    const held = await pg.query<{ rolname: string }>(
      'SELECT DISTINCT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1',
      [eve],
    );
    expect(held.map((r) => r.rolname)).toEqual(['latchkey_managed', profile!.rolname].sort());
  });

  it('a newcomer runs latchkey login, then latchkey connect latchkey_demo/sales/orders, and lands in psql once an approver approves', async () => {
    const CLI = join(REPO_ROOT, 'dist/apps/cli/src/main.js');
    const home = mkdtempSync(join(tmpdir(), 'latchkey-newcomer-'));
    try {
      // The two people the demo guide tells how to make, each with a token.
      const ana = await createUser(t, { email: 'ana@example.com', name: 'Ana', groups: ['analysts'] });
      const bo = await createUser(t, { email: 'bo@example.com', name: 'Bo', groups: ['data-team'] });
      const env = { PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1', TERM: 'xterm' };
      const run = (args: string[], extra: Record<string, string> = {}) =>
        new Promise<{ code: number | null; out: string }>((done) => {
          const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.stderr.on('data', (c: Buffer) => (out += c.toString()));
          child.on('close', (code) => done({ code, out }));
        });
      expect(await run(['login', t.url], { LATCHKEY_TOKEN: ana.token })).toMatchObject({ code: 0 });
      expect(await run(['login', t.url, '--profile', 'bo'], { LATCHKEY_TOKEN: bo.token })).toMatchObject({ code: 0 });

      // Ana connects under a terminal: the CLI requests, waits for the approver, then starts psql.
      const command = `${process.execPath} ${CLI} --profile default connect ${DEMO_DATABASE}/sales/orders --reason newcomer --duration 30m -- --pset=pager=off`;
      const session = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let screen = '';
      session.stdout.on('data', (d: Buffer) => (screen += d.toString()));
      session.stderr.on('data', (d: Buffer) => (screen += d.toString()));
      const exited = new Promise<number | null>((done) => session.on('exit', (code) => done(code)));
      const pending = await waitUntil(
        'Ana waiting for approval',
        async () => {
          const list = await t.api('GET', '/api/v1/access-requests?status=PENDING', { token: ana.token });
          return list.body.items?.[0]?.id as string | undefined;
        },
        60_000,
      );
      // It said whom it waits for.
      await waitUntil('the approver named on the terminal', async () => screen.includes('bo@example.com'), 60_000);

      // Bo approves with his own profile.
      expect(await run(['--profile', 'bo', 'requests', 'approve', pending, '--reason', 'ok'])).toMatchObject({ code: 0 });
      await waitUntil('the psql prompt', async () => screen.includes(`${DEMO_DATABASE}=>`), 120_000);
      session.stdin.write("SELECT 'orders-' || count(*) AS answer FROM sales.orders;\n");
      await waitUntil('the query answer', async () => /orders-\d+/.test(screen), 60_000);
      session.stdin.write('\\q\n');
      expect(await exited).toBe(0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
