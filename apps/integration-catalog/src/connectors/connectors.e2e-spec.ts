import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MASTER_KEY_MISMATCH } from '@latchkey/secrets';
import { ALL_SERVICES, pinnedNodeMajor, REPO_ROOT, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const suffix = randomBytes(3).toString('hex');
const body = (name: string, connectorId: string) => ({
  name,
  type: 'postgresql',
  connectorId,
  connectedResourceTypes: ['postgresql-table'],
  config: { hostname: '127.0.0.1', port: 5432, sslmode: 'disable' },
  secret: { store: 'builtin', username: 'postgres', password: 'unused-under-trust' },
});

describe('connectors', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    await t?.dispose();
  });

  it('runs every service on the Node.js major pinned in package.json', () => {
    const started = t.stack.lines
      .map(({ service, line }) => ({ service, entry: JSON.parse(line.startsWith('{') ? line : '{}') as { msg?: string; node?: string } }))
      .filter(({ entry }) => entry.msg === 'started');
    expect(new Set(started.map((s) => s.service))).toEqual(new Set(ALL_SERVICES));
    for (const { entry } of started) expect(entry.node).toMatch(new RegExp(`^v${pinnedNodeMajor()}\\.`));
  });

  const connector = async (id: string) => (await t.api('GET', '/api/v1/connectors')).body.items.find((c: { id: string }) => c.id === id);

  it("sends work to the integration's own connector: two connectors, two networks", async () => {
    t.stack.startProcess('provisioning-remote', 'provisioning', { CONNECTOR_ID: `remote-${suffix}` });
    await waitUntil('the remote connector', async () => ((await connector(`remote-${suffix}`))?.status === 'CONNECTED' ? true : undefined));

    const res = await t.api('POST', '/api/v1/integrations', { body: body(`via remote ${suffix}`, `remote-${suffix}`) });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('ACTIVE');
    // The report names the connector whose process ran it: the remote one, not `local`.
    expect(res.body.lastTest.connectorId).toBe(`remote-${suffix}`);
  });

  it("refuses a connector older than the type's minimum version, saying which and why", async () => {
    t.stack.startProcess('provisioning-old', 'provisioning', { CONNECTOR_ID: `old-${suffix}`, CONNECTOR_VERSION: '1.2.9' });
    await waitUntil('the old connector', async () => ((await connector(`old-${suffix}`))?.version === '1.2.9' ? true : undefined));
    const res = await t.api('POST', '/api/v1/integrations', { body: body(`old ${suffix}`, `old-${suffix}`) });
    expect(res.status).toBe(400);
    expect(res.body.details.issues).toEqual([
      { field: 'connectorId', rule: `must name a connector of version 1.3.0 or later; "old-${suffix}" runs 1.2.9: upgrade it` },
    ]);
    await t.stack.stopProcess('provisioning-old');
  });

  it('refuses an unknown connector', async () => {
    const res = await t.api('POST', '/api/v1/integrations', { body: body(`ghost ${suffix}`, 'ghost') });
    expect(res.status).toBe(400);
    expect(res.body.details.issues[0].field).toBe('connectorId');
    expect(res.body.details.issues[0].rule).toMatch(/"ghost" has never sent a heartbeat/);
  });

  it('marks a stopped connector DISCONNECTED after missed heartbeats and refuses it', async () => {
    expect(await t.stack.stopProcess('provisioning-remote')).toBe(0);
    const gone = await waitUntil('DISCONNECTED', async () => {
      const c = await connector(`remote-${suffix}`);
      return c?.status === 'DISCONNECTED' ? c : undefined;
    });
    expect(Date.parse(gone.lastSeenAt)).toBeLessThan(Date.now());
    const res = await t.api('POST', '/api/v1/integrations', { body: body(`late ${suffix}`, `remote-${suffix}`) });
    expect(res.status).toBe(400);
    expect(res.body.details.issues[0].rule).toMatch(/is DISCONNECTED \(last heartbeat /);
  });

  it('says loudly at start when the master key cannot open the secrets already stored, and not otherwise', async () => {
    // The first test stored a builtin secret under the suite's key; a new key comes in over the same database.
    const catalogLines = (from: number) =>
      t.stack.lines
        .slice(from)
        .filter((l) => l.service === 'integration-catalog' && l.line.startsWith('{'))
        .map((l) => JSON.parse(l.line) as Record<string, any>);
    const restartCatalog = async (env: Record<string, string>) => {
      expect(await t.stack.stopProcess('integration-catalog')).toBe(0);
      const from = t.stack.lines.length;
      t.stack.startProcess('integration-catalog', 'integration-catalog', env);
      await waitUntil('the catalog started', async () => catalogLines(from).some((l) => l.msg === 'started'));
      return from;
    };
    const newKey = randomBytes(32).toString('base64');
    const withNewKey = await restartCatalog({ LATCHKEY_MASTER_KEY: newKey });
    const warning = await waitUntil('the warning', async () => catalogLines(withNewKey).find((l) => l.msg === MASTER_KEY_MISMATCH));
    expect(warning).toMatchObject({ level: 'error', unreadable: expect.any(Number), checked: expect.any(Number) });
    expect(warning.unreadable).toBeGreaterThan(0);
    expect(JSON.stringify(warning)).not.toContain(newKey);
    expect(JSON.stringify(warning)).not.toContain(t.env.LATCHKEY_MASTER_KEY);

    // The old key after the new one opens them again: no warning.
    const withBoth = await restartCatalog({ LATCHKEY_MASTER_KEY: `${newKey},${t.env.LATCHKEY_MASTER_KEY}` });
    await t.stack.waitHealthy();
    expect(catalogLines(withBoth).some((l) => l.msg === MASTER_KEY_MISMATCH)).toBe(false);
  });

  it('names a service that does not answer in /health, and every service stops cleanly on SIGTERM', async () => {
    expect(await t.stack.stopProcess('access')).toBe(0);
    const res = await t.api('GET', '/health', { token: null });
    expect(res.status).toBe(503);
    expect(res.body.missing).toEqual(['access']);
    expect(res.body.message).toBe('Not answering: access.');
    const codes = await t.stack.stop();
    expect(Object.values(codes).every((c) => c === 0)).toBe(true);
    // Every service but access, stopped above.
    expect(Object.keys(codes).sort()).toEqual(ALL_SERVICES.filter((s) => s !== 'access').sort());
  });
});

describe('start-up configuration errors', () => {
  it('refuses to start the catalog without a master key, saying what to set', () => {
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/apps/integration-catalog/src/main.js')], {
      env: { PATH: process.env.PATH, NATS_URL: 'nats://127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/integration-catalog failed to start: .*LATCHKEY_MASTER_KEY/s);
    expect(run.stderr).not.toMatch(/\n\s+at /); // one clear message, not a stack trace
  });

  it('lists every bad environment variable at once', () => {
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/apps/api-gateway/src/main.js')], {
      env: { PATH: process.env.PATH, PORT: '99999', NATS_URL: 'http://x', LOG_LEVEL: 'loud' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/PORT: must be a port/);
    expect(run.stderr).toMatch(/NATS_URL: must be a URL/);
    expect(run.stderr).toMatch(/LOG_LEVEL/);
  });
});
