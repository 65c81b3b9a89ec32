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
/** A Slack incoming webhook: its path is the secret, so the file names a variable that holds it. */
const SLACK_URL = `https://hooks.slack.com/services/T0LATCH/B0KEY/${randomBytes(12).toString('hex')}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Config as code with the built `latchkey` against the whole stack: plan, apply and export of
 * groups, users, integrations, access flows and webhook endpoints, what they leave alone, drift,
 * refusals that name the line, and the audit log's source.
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

  const cli = (args: string[], more: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const env = {
        PATH: process.env.PATH!,
        HOME: dir,
        NO_COLOR: '1',
        LATCHKEY_URL: t.url,
        LATCHKEY_TOKEN: t.adminToken,
        CHAT_WEBHOOK_URL: SLACK_URL,
        ...more,
      };
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  const flows = async () =>
    (await t.api('GET', '/api/v1/access-flows?pageSize=500')).body.items as Array<{
      id: string;
      name: string;
      managedBy: string | null;
      updatedAt: string;
      maxDurationMinutes: number;
    }>;
  const groups = async () =>
    (await t.api('GET', '/api/v1/groups?pageSize=500')).body.items as Array<{ id: string; name: string; description: string | null; managedBy: string | null }>;
  const users = async () =>
    (await t.api('GET', '/api/v1/users?pageSize=500')).body.items as Array<{
      id: string;
      email: string;
      name: string;
      role: string;
      active: boolean;
      groups: string[];
      managedBy: string | null;
    }>;
  const webhooks = async () =>
    (await t.api('GET', '/api/v1/webhooks?pageSize=500')).body.items as Array<{
      id: string;
      name: string;
      url: string;
      events: string[];
      filters: Record<string, string[]>;
      active: boolean;
      managedBy: string | null;
    }>;
  const integrations = async () =>
    (await t.api('GET', '/api/v1/integrations?pageSize=500')).body.items as Array<{
      id: string;
      name: string;
      managedBy: string | null;
      status: string;
      updatedAt: string;
    }>;

  // The target `shop` with its secret by reference (variables the connector reads); a flow on it,
  // and one on `legacy`, an integration made in the console (not in the file).
  // Groups, users and webhook endpoints after them; `full` false leaves out one of each (for --prune).
  const config = (maxDurationMinutes: number, withSales = true, full = withSales) => `# yaml-language-server: $schema=../apps/cli/latchkey.schema.json
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
groups:
  - name: eng
    description: Engineers
${full ? '  - name: data-platform\n' : ''}users:
  - email: ana@example.com
    name: Ana
    groups: [eng, dba]
${
  full
    ? `  - email: bob@example.com
    name: Bob
    role: admin
    active: false
    groups: [data-platform]
`
    : ''
}webhooks:
  - name: ops feed
    url: https://hooks.example.com/latchkey
    events: [access_request.created, access_request.approved]
    filters: { integrations: [shop], flows: [legacy readers] }
${
  full
    ? `  - name: chat
    url: { env: CHAT_WEBHOOK_URL }
    format: slack
    events: ["*"]
`
    : ''
}`;
  /** The 1-based line and column of the first occurrence of `needle` in `text`. */
  const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
  const columnOf = (text: string, needle: string) => text.indexOf(needle) - text.lastIndexOf('\n', text.indexOf(needle));

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
    // Made in the console, not in any file: no apply touches them.
    expect((await t.api('POST', '/api/v1/groups', { body: { name: 'console-group' } })).status).toBe(201);
    expect((await t.api('POST', '/api/v1/users', { body: { email: 'carol@example.com', name: 'Carol', groups: ['console-group'] } })).status).toBe(201);
    expect((await t.api('POST', '/api/v1/webhooks', { body: { name: 'console hook', url: 'https://hooks.example.com/console', events: ['*'] } })).status).toBe(
      201,
    );
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
        .replace(
          '      store: env\n      usernameVar: SHOP_DB_USER\n      passwordVar: SHOP_DB_PASSWORD',
          '      store: builtin\n      username: x\n      password: in-clear',
        ),
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
    expect(planned.stdout).toBe(
      [
        '+ group "data-platform"',
        '+ group "eng"',
        '+ user "ana@example.com"',
        '+ user "bob@example.com"',
        '+ integration "shop"',
        '+ access flow "legacy readers"',
        '+ access flow "sales for engineers"',
        '+ webhook "chat"',
        '+ webhook "ops feed"',
        'Plan: 9 to create, 0 to update, 0 to delete.',
        '',
      ].join('\n'),
    );
    // The plan shows the Slack URL as the server would (masked), never what the variable holds.
    const planJson = await cli(['plan', '-f', path, '--output', 'json']);
    expect(planJson.stdout).toContain('https://hooks.slack.com/services/***');
    expect(planJson.stdout).not.toContain(SLACK_URL.split('/').at(-1));
    expect((await flows()).map((f) => f.name)).toEqual(['console flow']);

    const applied = await cli(['apply', '-f', path, '--output', 'json']);
    expect(applied.code).toBe(0);
    const done = JSON.parse(applied.stdout).applied as Array<{ action: string; kind: string; name: string; signingSecret?: string }>;
    expect(done.map((a) => `${a.action} ${a.name}`)).toEqual([
      'create data-platform',
      'create eng',
      'create ana@example.com',
      'create bob@example.com',
      'create shop',
      'create legacy readers',
      'create sales for engineers',
      'create chat',
      'create ops feed',
    ]);
    // The server makes each endpoint's signing secret and shows it once, in the create answer: apply passes it on.
    expect(done.filter((a) => a.kind === 'webhook').map((a) => a.signingSecret)).toEqual([expect.stringMatching(/^whsec_/), expect.stringMatching(/^whsec_/)]);
    // The connector found its credentials through the references (and discovery ran with them).
    const shop = await waitUntil('shop ACTIVE', async () => (await integrations()).find((i) => i.name === 'shop' && i.status === 'ACTIVE'));
    expect(shop.managedBy).toBe('latchkey-cli');
    expect(Object.fromEntries((await flows()).map((f) => [f.name, f.managedBy]))).toEqual({
      'console flow': null,
      'legacy readers': 'latchkey-cli',
      'sales for engineers': 'latchkey-cli',
    });
    expect(Object.fromEntries((await groups()).map((g) => [g.name, [g.managedBy, g.description]]))).toEqual({
      dba: [null, null],
      'console-group': [null, null],
      eng: ['latchkey-cli', 'Engineers'],
      'data-platform': ['latchkey-cli', null],
    });
    const people = Object.fromEntries(
      (await users()).map(({ email, name, role, active, groups: names, managedBy }) => [email, { name, role, active, groups: names, managedBy }]),
    );
    expect(people).toMatchObject({
      'ana@example.com': { name: 'Ana', role: 'user', active: true, groups: ['dba', 'eng'], managedBy: 'latchkey-cli' },
      'bob@example.com': { name: 'Bob', role: 'admin', active: false, groups: ['data-platform'], managedBy: 'latchkey-cli' },
      'carol@example.com': { managedBy: null },
    });
    const hooks = Object.fromEntries((await webhooks()).map((w) => [w.name, w]));
    expect(hooks['ops feed']).toMatchObject({
      url: 'https://hooks.example.com/latchkey',
      filters: { integrationIds: [shop.id], flowIds: [(await flows()).find((f) => f.name === 'legacy readers')!.id] },
      active: true,
      managedBy: 'latchkey-cli',
    });
    expect(hooks.chat).toMatchObject({ url: 'https://hooks.slack.com/services/***', format: 'slack', events: ['*'], managedBy: 'latchkey-cli' });
    expect(hooks['console hook'].managedBy).toBeNull();

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
    const ana = (await users()).find((u) => u.email === 'ana@example.com')!;
    const anaLog = await t.api('GET', `/api/v1/audit?targetType=user&targetId=${ana.id}`);
    expect(anaLog.body.items).toEqual([expect.objectContaining({ action: 'user.created', actor: expect.objectContaining({ source: 'cli' }) })]);
    const bob = (await users()).find((u) => u.email === 'bob@example.com')!;
    const bobLog = await t.api('GET', `/api/v1/audit?targetType=user&targetId=${bob.id}`);
    expect(bobLog.body.items.map((e: { action: string; actor: { source?: string } }) => [e.action, e.actor.source])).toEqual([
      ['user.deactivated', 'cli'],
      ['user.created', 'cli'],
    ]);
    const eng = (await groups()).find((g) => g.name === 'eng')!;
    const engLog = await t.api('GET', `/api/v1/audit?targetType=group&targetId=${eng.id}`);
    expect(engLog.body.items).toEqual([expect.objectContaining({ action: 'group.created', actor: expect.objectContaining({ source: 'cli' }) })]);
    const feed = (await webhooks()).find((w) => w.name === 'ops feed')!;
    const feedLog = await waitUntil(
      'the webhook in the audit log',
      async () => (await t.api('GET', `/api/v1/audit?targetType=webhook&targetId=${feed.id}`)).body.items[0],
    );
    expect(feedLog).toMatchObject({ action: 'webhook.created', actor: { source: 'cli' } });
    const consoleLog = await t.api('GET', `/api/v1/audit?targetType=access-flow&targetId=${consoleFlowId}`);
    expect(consoleLog.body.items[0].actor.source).toBeUndefined();
  });

  it('export writes a file whose plan is empty; the built-in secret is left out and a masked URL read from a variable, each with a warning', async () => {
    const exported = await cli(['export', '-f', join(dir, 'exported.yaml')]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('integration "legacy" keeps its secret in Latchkey\'s built-in store');
    expect(exported.stderr).toContain(
      'webhook "chat" has a URL with a secret in it, which the server shows masked: the file reads it from LATCHKEY_WEBHOOK_URL_CHAT',
    );
    const text = readFileSync(join(dir, 'exported.yaml'), 'utf8');
    expect(text).not.toContain(CONNECTOR_PASSWORD);
    expect(text).not.toContain(SLACK_URL.split('/').at(-1));
    expect(text).not.toMatch(/^\s*(password|token):|whsec_/m);
    expect(text).toContain('passwordVar: SHOP_DB_PASSWORD');
    expect(text).toContain('name: console flow');
    expect(text).toContain('email: carol@example.com');
    expect(text).toContain('name: console-group');
    expect(text).toContain('env: LATCHKEY_WEBHOOK_URL_CHAT');
    expect(text).toContain('flows:\n        - legacy readers');
    const planned = await cli(['plan', '-f', join(dir, 'exported.yaml')], { LATCHKEY_WEBHOOK_URL_CHAT: SLACK_URL });
    expect(planned).toMatchObject({ code: 0, stdout: 'No changes: the server matches the file.\n' });
    // Without the variable, plan says which line names it.
    const unset = await cli(['plan', '-f', join(dir, 'exported.yaml')]);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(`${join(dir, 'exported.yaml')}:${lineOf(text, 'env: LATCHKEY_WEBHOOK_URL_CHAT')}:`);
    expect(unset.stderr).toContain('names the variable LATCHKEY_WEBHOOK_URL_CHAT, which is not set here');
  });

  it('refuses bad users, groups and webhooks at their lines: no password, no inline secret URL, known roles and events', async () => {
    const before = { users: await users(), groups: await groups(), webhooks: await webhooks() };
    const text = config(120)
      .replace('    name: Ana\n', '    name: Ana\n    password: hunter2\n')
      .replace('    role: admin\n', '    role: superuser\n')
      .replace('url: { env: CHAT_WEBHOOK_URL }', `url: ${SLACK_URL}`)
      .replace('events: [access_request.created, access_request.approved]', 'events: [access_request.created, access_request.teleported]')
      .replace('  - name: data-platform\n', '  - name: data platform\n');
    const bad = file('bad-identities.yaml', text);
    for (const command of ['plan', 'apply']) {
      const run = await cli([command, '-f', bad]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${bad}:${lineOf(text, 'name: data platform')}:5: groups.1.name: must be 1-100 characters of letters, digits, ., _ and -`);
      expect(run.stderr).toContain(`${bad}:${lineOf(text, 'password: hunter2')}:5: users.0.password: is not a known field`);
      expect(run.stderr).toContain(`${bad}:${lineOf(text, 'role: superuser')}:5: users.1.role:`);
      expect(run.stderr).toContain(
        `${bad}:${lineOf(text, 'access_request.teleported')}:${columnOf(text, 'access_request.teleported')}: webhooks.0.events.1: must be an event type`,
      );
      expect(run.stderr).toContain(
        `${bad}:${lineOf(text, `url: ${SLACK_URL}`)}:5: webhooks.1.url: holds a secret (credentials, a query or a Slack webhook path): give it by reference, url: { env: VARIABLE }`,
      );
      // The file's own text, secrets included, is not echoed back.
      expect(run.stderr).not.toContain(SLACK_URL.split('/').at(-1));
      expect(run.stderr).not.toContain('hunter2');
    }
    expect({ users: await users(), groups: await groups(), webhooks: await webhooks() }).toEqual(before);
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
    expect(planned.stdout).toMatch(
      /^~ access flow "sales for engineers" {2}\(drift: changed outside .*latchkey\.yaml by \S+ at \S+\)\n {4}maxDurationMinutes: 45 -> 120\n/,
    );
    expect((await cli(['apply', '-f', path])).code).toBe(0);
    expect((await flows()).find((f) => f.name === 'sales for engineers')!.maxDurationMinutes).toBe(120);
    expect((await cli(['plan', '-f', path])).code).toBe(0);
  });

  it('shows a user and a webhook changed in the console as drift, and apply puts them back, still managed', async () => {
    const ana = (await users()).find((u) => u.email === 'ana@example.com')!;
    expect((await t.api('PUT', `/api/v1/users/${ana.id}`, { body: { email: ana.email, name: 'Ana B.', groups: ['eng'] } })).status).toBe(200);
    const feed = (await webhooks()).find((w) => w.name === 'ops feed')!;
    const paused = await t.api('PUT', `/api/v1/webhooks/${feed.id}`, {
      body: { name: feed.name, url: feed.url, events: feed.events, filters: feed.filters, active: false },
    });
    expect([paused.status, paused.body.managedBy]).toEqual([200, 'latchkey-cli']);
    const planned = await cli(['plan', '-f', path]);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(
      /^~ user "ana@example\.com" {2}\(drift: changed outside .*latchkey\.yaml by \S+ at \S+\)\n {4}name: "Ana B\." -> "Ana"\n {4}groups: \["eng"\] -> \["dba","eng"\]\n/,
    );
    expect(planned.stdout).toMatch(
      /\n~ webhook "ops feed" {2}\(drift: changed outside .*latchkey\.yaml by \S+ at \S+\)\n {4}active: false -> true\nPlan: 0 to create, 2 to update, 0 to delete\.\n$/,
    );
    expect((await cli(['apply', '-f', path])).code).toBe(0);
    expect((await users()).find((u) => u.email === 'ana@example.com')).toMatchObject({ name: 'Ana', groups: ['dba', 'eng'], managedBy: 'latchkey-cli' });
    expect((await webhooks()).find((w) => w.name === 'ops feed')).toMatchObject({ active: true, managedBy: 'latchkey-cli' });
    expect((await cli(['plan', '-f', path])).code).toBe(0);
  });

  it('--prune deletes only what the file manages and no longer lists; what the console made stays', async () => {
    const smaller = file('smaller.yaml', config(120, false));
    const kept = await cli(['plan', '-f', smaller]);
    expect(kept.code).toBe(0);
    for (const [kind, name] of [
      ['access flow', 'sales for engineers'],
      ['group', 'data-platform'],
      ['user', 'bob@example.com'],
      ['webhook', 'chat'],
    ]) {
      expect(kept.stdout).toContain(`${kind} "${name}" is managed by this file but not in it: kept (--prune deletes it)`);
    }
    const planned = await cli(['plan', '-f', smaller, '--prune']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('- access flow "sales for engineers"');
    expect(planned.stdout).toContain('Plan: 0 to create, 0 to update, 4 to delete.');
    const applied = await cli(['apply', '-f', smaller, '--prune', '--output', 'json']);
    expect(applied.code).toBe(0);
    // Deleted in the reverse order of creation: what names others goes first.
    expect(JSON.parse(applied.stdout).applied.map((a: { action: string; name: string }) => `${a.action} ${a.name}`)).toEqual([
      'delete chat',
      'delete sales for engineers',
      'delete bob@example.com',
      'delete data-platform',
    ]);
    expect((await flows()).map((f) => f.name).sort()).toEqual(['console flow', 'legacy readers']);
    expect((await integrations()).map((i) => i.name).sort()).toEqual(['legacy', 'shop']);
    expect((await groups()).map((g) => g.name).sort()).toEqual(['console-group', 'dba', 'eng']);
    const emails = (await users()).map((u) => u.email);
    expect(emails).toEqual(expect.arrayContaining(['ana@example.com', 'carol@example.com']));
    expect(emails).not.toContain('bob@example.com');
    expect((await webhooks()).map((w) => w.name).sort()).toEqual(['console hook', 'ops feed']);
    const gone = await t.api('GET', `/api/v1/audit?action=user.deleted&pageSize=1`);
    expect(gone.body.items[0]).toMatchObject({ targetName: 'bob@example.com', actor: { source: 'cli' } });
    expect((await cli(['plan', '-f', smaller, '--prune'])).code).toBe(0);

    // The full file again: what was pruned comes back, and the new endpoint's signing secret is printed once.
    const again = await cli(['apply', '-f', path]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^Applied 4 changes\.\nSigning secret of webhook "chat" \(shown this once; POST \/api\/v1\/webhooks\/[0-9a-f-]{36}\/rotate-secret makes a new one\): whsec_\S+\n$/,
    );
    expect(again.stderr).not.toContain('whsec_');
    expect((await cli(['plan', '-f', path])).code).toBe(0);
  });
});
