import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ServiceName } from '@latchkey/contracts';
import { PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;
const METRICS_TOKEN = `metrics-${randomBytes(24).toString('hex')}`;

/** One scrape of `GET /metrics`: each series (`name{labels}`) with its value. */
type Scrape = Array<{ name: string; labels: Record<string, string>; value: number }>;

function parseMetrics(text: string): Scrape {
  const out: Scrape = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    out.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return out;
}

/** The value of the one series of `name` whose labels include `labels`; 0 when there is none (a counter nothing moved yet). */
function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = scrape.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/**
 * The access-request story through every real service, with `GET /metrics` scraped before, during
 * and after: the counters, histograms and gauges move as the story did. Then the probes: every
 * service answers liveness and readiness on its own port, and readiness turns not-ready when the
 * stack's own Redis is stopped.
 */
describe('metrics and probes', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  let invoices: string;
  const tokens: Record<string, string> = {};

  const scrape = async (): Promise<Scrape> => {
    const res = await t.api('GET', '/metrics', { token: METRICS_TOKEN });
    expect(res.status).toBe(200);
    return parseMetrics(res.text);
  };
  const waitStatus = (id: string, status: string, timeoutMs = 90_000) =>
    waitUntil(
      `request ${id} ${status}`,
      async () => {
        const r = (await t.api('GET', `/api/v1/access-requests/${id}`)).body;
        return r.status === status && r;
      },
      timeoutMs,
    );
  const ask = async () => {
    const created = await t.api('POST', '/api/v1/access-requests', {
      token: tokens.analyst,
      body: { items: [{ resourceId: invoices, permission: 'READ_ONLY' }], justification: 'numbers', durationMinutes: 1 },
    });
    expect(created.status).toBe(201);
    return created.body.requests[0].id as string;
  };
  const approve = async (id: string) =>
    expect((await t.api('POST', `/api/v1/access-requests/${id}/approve`, { token: tokens.dana, body: {} })).status).toBe(200);

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query('CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int PRIMARY KEY); INSERT INTO billing.invoices VALUES (1)', undefined, 'app');
    t = await startTestStack({
      env: { METRICS_TOKEN, PROBE_PORT: '0', PROBE_HOST: '127.0.0.1', ACCESS_SWEEP_INTERVAL_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' },
    });

    for (const group of ['analysts', 'data-team']) await t.api('POST', '/api/v1/groups', { body: { name: group } });
    for (const [key, groups] of [
      ['analyst', ['analysts']],
      ['dana', ['data-team']],
    ] as const) {
      const user = await t.api('POST', '/api/v1/users', {
        body: { email: `${key}-${randomBytes(3).toString('hex')}@example.com`, name: key, groups, role: 'user' },
      });
      tokens[key] = (await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: 'metrics e2e' } })).body.token;
    }
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'app',
        type: 'postgresql',
        connectorId: 'local',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect(integration.body.status).toBe('ACTIVE');
    integrationId = integration.body.id;
    invoices = await waitUntil('discovered invoices', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table`);
      return list.body.items?.find((r: { path: string }) => r.path === 'app/billing/invoices')?.id;
    });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts read invoices',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['data-team'] }] },
        maxDurationMinutes: 1,
      },
    });
    expect(flow.status).toBe(201);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('answers Prometheus text for every service to admins and the metrics token only', async () => {
    expect((await t.api('GET', '/metrics', { token: null })).status).toBe(401);
    expect((await t.api('GET', '/metrics', { token: tokens.analyst })).status).toBe(403);
    expect((await t.api('GET', '/metrics', { token: `${METRICS_TOKEN}x` })).status).toBe(401);
    const admin = await t.api('GET', '/metrics');
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toContain('text/plain');
    const scraped = await scrape();
    for (const service of ServiceName.options) {
      expect({ service, replicas: valueOf(scraped, 'latchkey_service_replicas', { service }) }).toEqual({ service, replicas: 1 });
      expect({ service, rss: valueOf(scraped, 'latchkey_process_resident_memory_bytes', { service }) > 0 }).toEqual({ service, rss: true });
    }
    // The discovery that found the invoices table.
    expect(valueOf(scraped, 'latchkey_discovery_refresh_duration_seconds_count', { outcome: 'succeeded' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(scraped, 'latchkey_discovery_refresh_resources_count')).toBeGreaterThanOrEqual(1);
    expect(scraped.every((s) => s.name.startsWith('latchkey_'))).toBe(true);
  });

  it('counts the story: request, approval, grant, one read, revocation, expiry, and the session it ended', async () => {
    const before = await scrape();
    const delta = (after: Scrape, name: string, labels?: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);

    // A request waits for its approver: one PENDING, under five minutes old.
    const first = await ask();
    // Read at scrape time: a collect begun before the request committed can answer one scrape late.
    const waiting = await waitUntil(
      'the pending gauge at 1',
      async () => {
        const now = await scrape();
        return valueOf(now, 'latchkey_access_requests_pending', { age: 'under_5m' }) === 1 && now;
      },
      30_000,
    );
    expect(valueOf(waiting, 'latchkey_access_requests_pending', { age: 'over_1d' })).toBe(0);
    expect(delta(waiting, 'latchkey_access_requests_created_total', { approval: 'manual' })).toBe(1);

    // Approved and granted; the analyst reads the password and keeps a session open.
    await approve(first);
    await waitStatus(first, 'GRANTED');
    const details = (await t.api('GET', `/api/v1/access-requests/${first}/access-details`, { token: tokens.analyst })).body;
    const session = new Client({ host: '127.0.0.1', port: pg.port, user: details.username, password: details.password, database: 'app' });
    session.on('error', () => undefined);
    await session.connect();
    // A second one is granted and its password never read.
    const second = await ask();
    await approve(second);
    await waitStatus(second, 'GRANTED');

    // A gauge is read at scrape time; under load a collect begun before the grant can still answer one scrape late.
    const granted = await waitUntil(
      'the pending gauge back to 0',
      async () => {
        const now = await scrape();
        return valueOf(now, 'latchkey_access_requests_pending', { age: 'under_5m' }) === 0 && now;
      },
      30_000,
    );
    expect(valueOf(granted, 'latchkey_grants_active', { connector: 'local' })).toBe(2);
    expect(valueOf(granted, 'latchkey_access_credentials_unviewed')).toBe(1);
    expect(delta(granted, 'latchkey_access_request_approval_seconds_count')).toBe(2);
    expect(delta(granted, 'latchkey_access_request_grant_seconds_count', { approval: 'manual' })).toBe(2);
    expect(
      delta(granted, 'latchkey_nats_request_duration_seconds_count', { service: 'access', subject: 'connector.{connectorId}.grants.create', outcome: 'ok' }),
    ).toBe(2);
    expect(valueOf(granted, 'latchkey_queue_jobs', { service: 'provisioning', queue: 'revocations-local', state: 'delayed' })).toBe(2);

    // The analyst gives the second back; the first runs out.
    expect((await t.api('POST', `/api/v1/access-requests/${second}/revoke`, { token: tokens.analyst, body: {} })).status).toBe(200);
    await waitStatus(second, 'REVOKED');
    await waitStatus(first, 'EXPIRED');
    expect(await pg.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [details.username])).toEqual([{ n: 0 }]);
    await session.end().catch(() => undefined);

    const after = await scrape();
    expect(valueOf(after, 'latchkey_grants_active', { connector: 'local' })).toBe(0);
    expect(valueOf(after, 'latchkey_access_credentials_unviewed')).toBe(0);
    expect(valueOf(after, 'latchkey_revocations_stuck', { connector: 'local' })).toBe(0);
    expect(valueOf(after, 'latchkey_revocations_overdue', { connector: 'local' })).toBe(0);
    // The revoked grant's inline revocation and its promoted job may both try (each idempotent): 2 or 3.
    expect(delta(after, 'latchkey_revocation_attempts_total')).toBeGreaterThanOrEqual(2);
    expect(delta(after, 'latchkey_revocation_attempts_total')).toBeLessThanOrEqual(3);
    expect(delta(after, 'latchkey_revocation_failures_total')).toBe(0);
    expect(delta(after, 'latchkey_revocation_lateness_seconds_count')).toBe(1);
    expect(delta(after, 'latchkey_session_terminations_total')).toBe(1);
    expect(delta(after, 'latchkey_session_termination_failures_total')).toBe(0);
    expect(delta(after, 'latchkey_access_requests_ended_total', { status: 'EXPIRED' })).toBe(1);
    expect(delta(after, 'latchkey_access_requests_ended_total', { status: 'REVOKED' })).toBe(1);
    expect(delta(after, 'latchkey_access_credentials_never_viewed_total')).toBe(1);
    expect(valueOf(after, 'latchkey_queue_jobs', { service: 'provisioning', queue: 'revocations-local', state: 'delayed' })).toBe(0);
  });

  it('shows the audit chain status after a verification, and rotation results', async () => {
    expect((await t.api('GET', '/api/v1/audit/verify')).body.ok).toBe(true);
    const verified = await scrape();
    expect(valueOf(verified, 'latchkey_audit_chain_broken')).toBe(0);
    expect(valueOf(verified, 'latchkey_audit_chain_verifications_total', { result: 'intact' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(verified, 'latchkey_audit_chain_verifications_total', { result: 'broken' })).toBe(0);

    const rotated = await t.api('POST', `/api/v1/integrations/${integrationId}/rotate`);
    expect(rotated.status).toBe(200);
    const result = rotated.body.result as string;
    expect(valueOf(await scrape(), 'latchkey_rotations_total', { result })).toBe(valueOf(verified, 'latchkey_rotations_total', { result }) + 1);
  });

  it('each service answers liveness and readiness on its own port; readiness turns not-ready while Redis is down', async () => {
    const probeUrls = Object.fromEntries(
      ServiceName.options.map((service) => {
        const started = t.stack
          .output(service)
          .split('\n')
          .map((l) => {
            try {
              return JSON.parse(l);
            } catch {
              return {};
            }
          })
          .find((l) => l.msg === 'started');
        return [service, started?.probeUrl as string];
      }),
    );
    const probe = async (service: ServiceName, path: string) => {
      const res = await fetch(`${probeUrls[service]}${path}`);
      return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
    };
    const REDIS_USERS: ServiceName[] = ['access', 'provisioning', 'discovery', 'rotation', 'notifications'];
    for (const service of ServiceName.options) {
      expect({ service, probeUrl: probeUrls[service] }).toEqual({ service, probeUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
      expect(await probe(service, '/livez')).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await probe(service, '/readyz');
      expect({ service, ...ready }).toMatchObject({
        service,
        status: 200,
        body: { status: 'ready', checks: { nats: 'ok', ...(REDIS_USERS.includes(service) ? { redis: 'ok' } : {}) } },
      });
      // The rotation worker and the gateway keep no state in the control database: no check of it.
      expect({ service, database: ready.body.checks.database }).toEqual({
        service,
        database: ['rotation', 'api-gateway'].includes(service) ? undefined : 'ok',
      });
    }
    const gatewayReady = await t.api('GET', '/readyz', { token: null });
    expect(gatewayReady).toMatchObject({ status: 200, body: { status: 'ready', checks: { nats: 'ok' } } });
    expect(gatewayReady.body.checks.database).toBeUndefined();
    expect((await t.api('GET', '/livez', { token: null })).status).toBe(200);

    await t.redis.stop();
    const down = await waitUntil('access not ready without Redis', async () => {
      const r = await probe('access', '/readyz');
      return r.status === 503 && r;
    });
    expect(down.body).toEqual({ status: 'not ready', checks: { database: 'ok', nats: 'ok', redis: 'down' } });
    expect(await probe('access', '/livez')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await probe('integration-catalog', '/readyz')).status).toBe(200);
    // Every service still answers (200), and /health names the ones that are not ready.
    const health = await t.api('GET', '/health', { token: null });
    expect(health.status).toBe(200);
    expect(health.body.notReady).toEqual(expect.arrayContaining(REDIS_USERS));
    expect(health.body.services.access).toMatchObject({ status: 'ok', ready: false, checks: { redis: 'down' } });
    // Metrics still answer; the queue depths that need Redis are left out rather than reported as zero.
    const scraped = await scrape();
    expect(scraped.filter((s) => s.name === 'latchkey_queue_jobs')).toEqual([]);
    expect(valueOf(scraped, 'latchkey_service_replicas', { service: 'access' })).toBe(1);
  });
});
