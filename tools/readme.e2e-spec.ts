// The README's "Request, approve, connect" walk-through, run as it is written (curl and jq in
// bash) against `npm start -- --demo`'s demo on a private PostgreSQL: what a new user copies works.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { AccessFlow, Integration } from '@latchkey/contracts';
import { PgCluster, REPO_ROOT, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';
import { createDemo } from './start/demo';
import { demoGuide } from './start/demo-guide';

const HEADING = '### Request, approve, connect';

/** The first bash block after the heading, without its first line (which reads .latchkey/: the test gives T and API). */
function walkThrough(): { block: string; firstLine: string } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(HEADING));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1];
  const [firstLine, ...rest] = block.split('\n');
  return { block: rest.join('\n'), firstLine };
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--norc', '--noprofile', '-c', `set -euo pipefail\n${script}`], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('the README walk-through', () => {
  let pg: PgCluster;
  let t: TestStack;
  let demo: Awaited<ReturnType<typeof createDemo>>;

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    t = await startTestStack();
    demo = await createDemo(t.url, t.adminToken, `postgres://postgres:${encodeURIComponent(pg.superuserPassword)}@127.0.0.1:${pg.port}/postgres`);
    expect(demo.status).toBe('ACTIVE');
    await waitUntil('the demo tables discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${demo.integrationId}&type=postgresql-table&q=sales/orders`);
      // The walk-through takes the first match, in path order: the table (its sequence sorts after it).
      return list.body.items?.[0]?.path === 'latchkey_demo/sales/orders';
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('starts from what the demo prints: who may request, who approves, and the same two people', async () => {
    const flow = AccessFlow.parse((await t.api('GET', `/api/v1/access-flows/${demo.flowId}`)).body);
    const integration = Integration.parse((await t.api('GET', `/api/v1/integrations/${demo.integrationId}`)).body);
    const guide = demoGuide('http://127.0.0.1:8080', flow, integration);
    expect(guide).toContain('group analysts may request READ_ONLY on postgresql-table');
    expect(guide).toContain('else the integration owners (group data-team)');
    const { block, firstLine } = walkThrough();
    expect(firstLine).toBe('export T=$(cat .latchkey/admin-token) API=http://127.0.0.1:8080/api/v1');
    const bodies = [...guide.matchAll(/-d '(\{.*\})'/g)].map((m) => m[1]);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(block).toContain(`-d '${body}'`);
  });

  it('requests, approves and hands out a login that works, the password once', async () => {
    const { code, out, err } = await bash(walkThrough().block, { T: t.adminToken, API: `${t.url}/api/v1` });
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    const [waiting, approved] = lines;
    expect(approved).toBe('APPROVED');
    const details = JSON.parse(lines.slice(2).join('\n')) as Record<string, any>;
    const request = (await t.api('GET', `/api/v1/access-requests/${waiting}`)).body;
    expect(request).toMatchObject({ status: 'GRANTED', approvals: [expect.objectContaining({ email: 'bo@example.com', decision: 'APPROVED', reason: 'ok' })] });
    expect(details).toMatchObject({
      host: '127.0.0.1',
      port: pg.port,
      database: 'latchkey_demo',
      username: expect.stringMatching(/^lk_/),
      password: expect.any(String),
    });
    expect(details.psql).toContain(`user=${details.username}`);

    const session = new Client({ host: '127.0.0.1', port: pg.port, user: details.username, password: details.password, database: 'latchkey_demo' });
    await session.connect();
    try {
      expect((await session.query('SELECT count(*)::int AS n FROM sales.orders')).rows[0].n).toBe(0);
      await expect(session.query('SELECT * FROM hr.employees')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await session.end();
    }
  });
});
