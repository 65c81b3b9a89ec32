import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgCluster, REPO_ROOT, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

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
 * Config as code with the built `latchkey` against the whole stack: plan, apply and export of
 * integrations and access flows, what they leave alone, drift, refusals that name the line, and
 * the audit log's source.
 */
describe('latchkey plan / apply / export', () => {
  let pg: PgCluster;
  let t: TestStack;
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-apply-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  const cli = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const env = { PATH: process.env.PATH!, HOME: dir, NO_COLOR: '1', LATCHKEY_URL: t.url, LATCHKEY_TOKEN: t.adminToken };
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  const flows = async () => (await t.api('GET', '/api/v1/access-flows?pageSize=500')).body.items as Array<{ id: string; name: string; managedBy: string | null; updatedAt: string; maxDurationMinutes: number }>;
  const integrations = async () => (await t.api('GET', '/api/v1/integrations?pageSize=500')).body.items as Array<{ id: string; name: string; managedBy: string | null; status: string; updatedAt: string }>;

  // The target `shop` with its secret by reference (variables the connector reads); a flow on it,
  // and one on `legacy`, an integration made in the console (not in the file).
  const config = (maxDurationMinutes: number, withSales = true) => `# yaml-language-server: $schema=../apps/cli/latchkey.schema.json
apiVersion: latchkey/v1
integrations:
  - name: shop
    type: postgresql
    connectedResourceTypes: [postgresql-table]
    config:
      hostname: 127.0.0.1
      port: ${pg.port}
      dbname: shop
      sslmode: disable
    secret:
      store: env
      usernameVar: SHOP_DB_USER
      passwordVar: SHOP_DB_PASSWORD
    customAccessDetails: Ask the data platform team.
accessFlows:
${
  withSales
    ? `  - name: sales for engineers
    requestors:
      conditions:
        - type: group
          match: is
          values: [eng]
    targets:
      - integration: shop
        resourceType: postgresql-table
        permissions: [READ_ONLY]
        resources: { mode: include, by: name, values: ["shop/sales/*"] }
    approvers:
      mode: ANY_OF
      groups: [{ type: group, values: [dba] }]
    maxDurationMinutes: ${maxDurationMinutes}
`
    : ''
}  - name: legacy readers
    requestors: { conditions: [{ type: user, match: is, values: [ops@example.com] }] }
    targets: [{ integration: legacy, resourceType: postgresql-table, permissions: [READ_ONLY] }]
    approvers: null
    maxDurationMinutes: 30
    settings: { justificationRequired: false }
`;

  let consoleFlowId: string;
  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE shop');
    await pg.query('CREATE SCHEMA sales; CREATE TABLE sales.orders (id int);', undefined, 'shop');
    t = await startTestStack({ env: { SHOP_DB_USER: CONNECTOR_USER, SHOP_DB_PASSWORD: CONNECTOR_PASSWORD } });
    expect((await t.api('POST', '/api/v1/groups', { body: { name: 'dba' } })).status).toBe(201);
    const legacy = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'legacy',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'postgres', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(legacy.status).toBe(201);
    const made = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'console flow',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['eng'] }] },
        targets: [{ integrationId: legacy.body.id, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 60,
      },
    });
    expect(made.status).toBe(201);
    consoleFlowId = made.body.id;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  // What a file sets (status and updatedAt move with discovery on their own).
  const state = async () => ({ flows: await flows(), integrations: (await integrations()).map(({ id, name, managedBy }) => ({ id, name, managedBy })) });

  it('refuses a bad file naming file, line and column of each offending key, and changes nothing', async () => {
    const before = await state();
    const bad = file(
      'bad.yaml',
      config(120)
        .replace('maxDurationMinutes: 120', 'maxDurationMinutes: 0')
        .replace('      store: env\n      usernameVar: SHOP_DB_USER\n      passwordVar: SHOP_DB_PASSWORD', '      store: builtin\n      username: x\n      password: in-clear'),
    );
    for (const command of ['plan', 'apply']) {
      const run = await cli([command, '-f', bad]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${bad}:13:7: integrations.0.secret.store: must have store 'env'`);
      expect(run.stderr).toContain(`${bad}:32:5: accessFlows.0.maxDurationMinutes: must be at least 1`);
      expect(run.stderr).toContain('nothing was changed');
    }
    // Valid as a file, but a target names an integration that exists nowhere: refused before any change.
    const dangling = file('dangling.yaml', config(120).replace('integration: legacy', 'integration: nowhere'));
    const refused = await cli(['apply', '-f', dangling]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${dangling}:35:17: accessFlows.1.targets.0.integration: names no integration in this file or on the server`);
    expect(await state()).toEqual(before);
  });

  let path: string;
  it('plan shows what to create and exits 2; apply makes it, marked as managed; a second plan is empty', async () => {
    path = file('latchkey.yaml', config(120));
    const planned = await cli(['plan', '-f', path]);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(2);
    expect(planned.stdout).toBe(['+ integration "shop"', '+ access flow "legacy readers"', '+ access flow "sales for engineers"', 'Plan: 3 to create, 0 to update, 0 to delete.', ''].join('\n'));
    expect((await flows()).map((f) => f.name)).toEqual(['console flow']);

    const applied = await cli(['apply', '-f', path, '--output', 'json']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).applied.map((a: { action: string; name: string }) => `${a.action} ${a.name}`)).toEqual(['create shop', 'create legacy readers', 'create sales for engineers']);
    // The connector found its credentials through the references (and discovery ran with them).
    const shop = await waitUntil('shop ACTIVE', async () => (await integrations()).find((i) => i.name === 'shop' && i.status === 'ACTIVE'));
    expect(shop.managedBy).toBe('latchkey-cli');
    expect(Object.fromEntries((await flows()).map((f) => [f.name, f.managedBy]))).toEqual({ 'console flow': null, 'legacy readers': 'latchkey-cli', 'sales for engineers': 'latchkey-cli' });

    const again = await cli(['plan', '-f', path]);
    expect(again).toMatchObject({ code: 0, stdout: 'No changes: the server matches the file.\n' });
    const reapplied = await cli(['apply', '-f', path, '--output', 'json']);
    expect(reapplied.code).toBe(0);
    expect(JSON.parse(reapplied.stdout).applied).toEqual([]);
  });

  it('records what apply did in the audit log with source cli', async () => {
    const sales = (await flows()).find((f) => f.name === 'sales for engineers')!;
    const flowLog = await t.api('GET', `/api/v1/audit?targetType=access-flow&targetId=${sales.id}`);
    expect(flowLog.body.items).toEqual([expect.objectContaining({ action: 'flow.created', actor: expect.objectContaining({ type: 'user', source: 'cli' }) })]);
    const shop = (await integrations()).find((i) => i.name === 'shop')!;
    // Integrations reach the log through the catalog's outbox.
    const created = await waitUntil('the integration in the audit log', async () => {
      const log = await t.api('GET', `/api/v1/audit?targetType=integration&targetId=${shop.id}&action=integration.created`);
      return log.body.items[0];
    });
    expect(created.actor.source).toBe('cli');
    const consoleLog = await t.api('GET', `/api/v1/audit?targetType=access-flow&targetId=${consoleFlowId}`);
    expect(consoleLog.body.items[0].actor.source).toBeUndefined();
  });

  it('export writes a file whose plan is empty; the built-in secret is left out with a warning', async () => {
    const exported = await cli(['export', '-f', join(dir, 'exported.yaml')]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('integration "legacy" keeps its secret in Latchkey\'s built-in store');
    const text = readFileSync(join(dir, 'exported.yaml'), 'utf8');
    expect(text).not.toContain(CONNECTOR_PASSWORD);
    expect(text).toContain('passwordVar: SHOP_DB_PASSWORD');
    expect(text).toContain('name: console flow');
    const planned = await cli(['plan', '-f', join(dir, 'exported.yaml')]);
    expect(planned).toMatchObject({ code: 0, stdout: 'No changes: the server matches the file.\n' });
  });

  it('shows a change made outside the file (as in the console) as drift, and apply puts it back', async () => {
    const sales = (await flows()).find((f) => f.name === 'sales for engineers')!;
    const current = (await t.api('GET', `/api/v1/access-flows/${sales.id}`)).body;
    const { id: _id, createdAt: _c, updatedAt: _u, managedBy: _m, warnings: _w, ...input } = current;
    const edited = await t.api('PUT', `/api/v1/access-flows/${sales.id}`, { body: { ...input, maxDurationMinutes: 45 } });
    expect(edited.status).toBe(200);
    // An edit that leaves the marker out keeps it.
    expect(edited.body.managedBy).toBe('latchkey-cli');

    const planned = await cli(['plan', '-f', path]);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/^~ access flow "sales for engineers" {2}\(drift: changed outside .*latchkey\.yaml by \S+ at \S+\)\n {4}maxDurationMinutes: 45 -> 120\n/);
    expect((await cli(['apply', '-f', path])).code).toBe(0);
    expect((await flows()).find((f) => f.name === 'sales for engineers')!.maxDurationMinutes).toBe(120);
    expect((await cli(['plan', '-f', path])).code).toBe(0);
  });

  it('--prune deletes only what the file manages and no longer lists; the console flow stays', async () => {
    const smaller = file('smaller.yaml', config(120, false));
    const kept = await cli(['plan', '-f', smaller]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('access flow "sales for engineers" is managed by this file but not in it: kept (--prune deletes it)');
    const planned = await cli(['plan', '-f', smaller, '--prune']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('- access flow "sales for engineers"');
    expect((await cli(['apply', '-f', smaller, '--prune'])).code).toBe(0);
    expect((await flows()).map((f) => f.name).sort()).toEqual(['console flow', 'legacy readers']);
    expect((await integrations()).map((i) => i.name).sort()).toEqual(['legacy', 'shop']);
  });
});
