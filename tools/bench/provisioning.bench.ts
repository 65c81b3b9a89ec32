import { randomBytes } from 'node:crypto';
import { Contracts, GrantItem } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { quoteIdent } from '@latchkey/pg-access';
import { waitUntil } from '@latchkey/testing';
import { POSTGRES_DEFAULT_ITERATIONS, rawGrant, rawLatencies, startBenchTarget } from './bench-target';
import { cpuLine, cpuSnapshot, memoryLine, ms, percentile, pool } from './stats';

const ACTIVE_GRANTS = Number(process.env.BENCH_ACTIVE_GRANTS ?? 10_000);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 300);
const THROUGHPUT_GRANTS = Number(process.env.BENCH_THROUGHPUT_GRANTS ?? 1000);
/** How long after the storm the services count as at rest. */
const REST_SECONDS = Number(process.env.BENCH_REST_SECONDS ?? 15);
const CONCURRENCY = 16;
const ITEM: GrantItem = { resourceType: 'postgresql-table', database: 'bench', schema: 'app', table: 'orders', permission: 'READ_ONLY' };

/**
 * Grants and revocations through the provisioning service (NATS request -> control database ->
 * BullMQ -> SQL on the target) beside the same statements run directly with `pg`.
 */
export async function benchProvisioning(): Promise<Array<[string, string]>> {
  const rows: Array<[string, string]> = [];
  const target = await startBenchTarget({ REVOCATION_CONCURRENCY: '32', SWEEP_INTERVAL_SECONDS: '30' });
  const bus = { current: undefined as MessageBus | undefined };
  try {
    const { pg, stack, integrationId } = target;
    bus.current = new MessageBus(stack.natsUrl, 'bench', 120_000);
    await bus.current.connect();
    const b = bus.current;
    const grant = (expiresAt: Date, tag: string) =>
      b.request(
        Contracts.provisioningGrantsCreate,
        {
          idempotencyKey: `${tag}-${randomBytes(6).toString('hex')}`,
          integrationId,
          identity: { id: `${tag}-${randomBytes(6).toString('hex')}`, email: `${tag}@bench.test` },
          items: [ITEM],
          expiresAt: expiresAt.toISOString(),
        },
        { connectorId: 'local' },
      );

    // The profile role Latchkey made for ITEM, for the raw SQL to join the same way.
    await grant(new Date(Date.now() + 3_600_000), 'warmup');
    const [{ profile }] = await pg.query<{ profile: string }>("SELECT rolname AS profile FROM pg_roles WHERE rolname LIKE 'lk\\_p\\_%' LIMIT 1");
    const raw = await target.connect();

    // 1. Latency, one at a time.
    const latency: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
      const t0 = performance.now();
      await grant(new Date(Date.now() + 3_600_000), 'lat');
      latency.push(performance.now() - t0);
    }
    const rawLatency = await rawLatencies(raw, 'raw_lat', profile, LATENCY_SAMPLES);
    const rawDefault = await rawLatencies(raw, 'raw_lat4096_', profile, LATENCY_SAMPLES, POSTGRES_DEFAULT_ITERATIONS);
    rows.push([
      `grant latency p50 (n=${LATENCY_SAMPLES})`,
      `${ms(percentile(latency, 50))}   raw SQL ${ms(percentile(rawLatency, 50))}   ratio ${(percentile(latency, 50) / percentile(rawLatency, 50)).toFixed(2)}x (target <= 1.5x)`,
    ]);
    rows.push([
      `grant latency p99`,
      `${ms(percentile(latency, 99))}   raw SQL ${ms(percentile(rawLatency, 99))}   ratio ${(percentile(latency, 99) / percentile(rawLatency, 99)).toFixed(2)}x (target <= 2x)`,
    ]);
    rows.push([
      `  raw SQL with a verifier of PostgreSQL's ${POSTGRES_DEFAULT_ITERATIONS} iterations, p50 / p99`,
      `${ms(percentile(rawDefault, 50))} / ${ms(percentile(rawDefault, 99))}   ratio ${(percentile(latency, 50) / percentile(rawDefault, 50)).toFixed(2)}x / ${(percentile(latency, 99) / percentile(rawDefault, 99)).toFixed(2)}x`,
    ]);

    // 2. Throughput, CONCURRENCY at a time, twice back to back: the first window starts cold (the
    // pools open their sessions, the code at this concurrency is not optimized yet), the second is
    // the steady state, the figure against the target.
    const windows: Array<{ rate: number; cpu: string; statements?: string }> = [];
    for (let w = 0; w < 2; w += 1) {
      const t0 = performance.now();
      const cpuBefore = cpuSnapshot();
      const statements = await target.controlStatements?.since();
      await pool(Array.from({ length: THROUGHPUT_GRANTS }), CONCURRENCY, () => grant(new Date(Date.now() + 3_600_000), 'tp'));
      windows.push({ rate: THROUGHPUT_GRANTS / ((performance.now() - t0) / 1000), cpu: cpuLine(cpuBefore, cpuSnapshot()), statements: await statements?.() });
    }
    const [cold, warm] = windows;
    const rawClients = await Promise.all(Array.from({ length: CONCURRENCY }, () => target.connect()));
    let t0 = performance.now();
    const cpuBeforeRawGrants = cpuSnapshot();
    await pool(
      Array.from({ length: THROUGHPUT_GRANTS }, (_, i) => i),
      CONCURRENCY,
      (i, _k, worker) => rawGrant(rawClients[worker], `raw_tp${i}`, profile),
    );
    const rawRate = THROUGHPUT_GRANTS / ((performance.now() - t0) / 1000);
    const rawGrantsCpu = cpuLine(cpuBeforeRawGrants, cpuSnapshot());
    rows.push([`grants per second (${THROUGHPUT_GRANTS}, ${CONCURRENCY} at a time, cold)`, `${cold.rate.toFixed(0)}/s`]);
    rows.push([`CPU of those ${THROUGHPUT_GRANTS} grants (cold)`, cold.cpu]);
    rows.push([
      `grants per second (${THROUGHPUT_GRANTS}, ${CONCURRENCY} at a time, warm)`,
      `${warm.rate.toFixed(0)}/s   raw SQL ${rawRate.toFixed(0)}/s (target 400/s)`,
    ]);
    rows.push([`CPU of those ${THROUGHPUT_GRANTS} grants (warm)`, warm.cpu]);
    rows.push([`CPU of raw SQL making ${THROUGHPUT_GRANTS} logins`, rawGrantsCpu]);
    if (warm.statements) rows.push(['control database statements of those grants (warm)', warm.statements]);

    // 3. Revocation lateness with ACTIVE_GRANTS active: the storm grants are made first, due later.
    const stormAt = new Date(Date.now() + (ACTIVE_GRANTS / Math.max(cold.rate, 1)) * 1000 * 1.3 + 40_000);
    t0 = performance.now();
    await pool(Array.from({ length: ACTIVE_GRANTS }), CONCURRENCY, () => grant(stormAt, 'storm'));
    rows.push([`made ${ACTIVE_GRANTS} active grants`, `${((performance.now() - t0) / 1000).toFixed(1)} s`]);
    rows.push([`RSS with ${ACTIVE_GRANTS} active grants (peak so far)`, memoryLine('peakMb')]);
    const probes = await pool(
      Array.from({ length: 200 }, (_, i) => i),
      CONCURRENCY,
      (i) => grant(new Date(Date.now() + 5_000 + i * 50), 'probe'),
    );
    const probeIds = probes.map((p) => p.grant.id);
    await waitUntil(
      'every probe grant revoked',
      async () =>
        (await stack.control<{ n: string }>("SELECT count(*) AS n FROM provisioning.grants WHERE id = ANY($1) AND status = 'EXPIRED'", [probeIds]))[0].n ===
        String(probeIds.length),
      120_000,
      100,
    );
    const lateness = (
      await stack.control<{ late: number }>('SELECT extract(epoch FROM ended_at - expires_at) * 1000 AS late FROM provisioning.grants WHERE id = ANY($1)', [
        probeIds,
      ])
    ).map((r) => Number(r.late));
    rows.push([
      `revocation lateness p50 / p99 (${ACTIVE_GRANTS} active)`,
      `${ms(percentile(lateness, 50))} / ${ms(percentile(lateness, 99))} (target p99 < 1000 ms)`,
    ]);

    // 4. ACTIVE_GRANTS expiring in the same second.
    await waitUntil('the storm second', async () => Date.now() >= stormAt.getTime(), stormAt.getTime() - Date.now() + 5_000, 100);
    const cpuBeforeStorm = cpuSnapshot();
    const stormStatements = await target.controlStatements?.since();
    await waitUntil(
      'every storm grant revoked',
      async () =>
        (await stack.control<{ n: string }>("SELECT count(*) AS n FROM provisioning.grants WHERE expires_at = $1 AND status <> 'EXPIRED'", [stormAt]))[0].n ===
        '0',
      600_000,
      // The storm's length comes from the rows' ended_at, not from this poll: polled seldom, it takes little of the CPU the storm needs.
      1_000,
    );
    const [{ last }] = await stack.control<{ last: Date }>('SELECT max(ended_at) AS last FROM provisioning.grants WHERE expires_at = $1', [stormAt]);
    const stormCpu = cpuLine(cpuBeforeStorm, cpuSnapshot());
    const stormStatementsLine = await stormStatements?.();
    const stormSeconds = (last.getTime() - stormAt.getTime()) / 1000;
    // Revocations per 5 s after the storm's second: where the time went.
    const timeline = await stack.control<{ bucket: number; n: string }>(
      'SELECT floor(extract(epoch FROM ended_at - expires_at) / 5)::int AS bucket, count(*) AS n FROM provisioning.grants WHERE expires_at = $1 GROUP BY 1 ORDER BY 1',
      [stormAt],
    );
    const stormRoles = (await stack.control<{ role: string }>('SELECT role_name AS role FROM provisioning.grants WHERE expires_at = $1', [stormAt])).map(
      (r) => r.role,
    );
    const stillLogin = await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_roles WHERE rolcanlogin AND rolname = ANY($1)', [stormRoles]);
    // Raw SQL doing the same revocation work for the same number of roles.
    const rawRoles = (await pg.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'raw\\_%'")).map((r) => r.rolname);
    t0 = performance.now();
    const cpuBeforeRaw = cpuSnapshot();
    await pool(rawRoles, CONCURRENCY, async (role, _k, worker) => {
      const c = rawClients[worker];
      await c.query(`REVOKE ${quoteIdent(profile)} FROM ${quoteIdent(role)}`);
      await c.query(`ALTER ROLE ${quoteIdent(role)} NOLOGIN`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    });
    const rawRevokeRate = rawRoles.length / ((performance.now() - t0) / 1000);
    const rawRevokeCpu = cpuLine(cpuBeforeRaw, cpuSnapshot());
    rows.push([
      `${ACTIVE_GRANTS} grants expiring in the same second`,
      `all revoked ${stormSeconds.toFixed(1)} s after (target < 30 s, aim 10 s); raw SQL revokes ${rawRevokeRate.toFixed(0)}/s with ${CONCURRENCY} connections; managed roles still LOGIN: ${stillLogin[0].n}`,
    ]);
    rows.push([`CPU through the storm (${ACTIVE_GRANTS} revocations)`, stormCpu]);
    if (stormStatementsLine) rows.push(['control database statements through the storm', stormStatementsLine]);
    rows.push([`CPU of raw SQL revoking ${rawRoles.length} roles`, rawRevokeCpu]);
    rows.push(['storm revocations per 5 s', timeline.map((b) => `${b.bucket * 5}s:${b.n}`).join(' ')]);
    rows.push(['peak RSS through the storm', memoryLine('peakMb')]);
    // At rest: the storm over, a sweep interval (or BENCH_REST_SECONDS) for the services to settle.
    await new Promise((r) => setTimeout(r, REST_SECONDS * 1000));
    rows.push([`RSS at rest ${REST_SECONDS} s after the storm (target < 150 MB each)`, memoryLine('rssMb')]);
    await Promise.all([raw.end(), ...rawClients.map((c) => c.end())]);
    return rows;
  } finally {
    await bus.current?.close();
    await target.dispose();
  }
}
