import { Contracts, SYSTEM_ACTOR } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import type { TestStack } from '@latchkey/testing';
import { ms, percentile, pool } from './stats';

const AUDIT_ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 50_000);
const SAMPLES = Number(process.env.BENCH_CONSOLE_SAMPLES ?? 200);
const PAGE = 50;

type Timing = { p50: number; p95: number; items: number };

async function time(samples: number, call: () => Promise<number>): Promise<Timing> {
  const latency: number[] = [];
  let items = 0;
  for (let i = 0; i < samples; i += 1) {
    const t0 = performance.now();
    items = await call();
    latency.push(performance.now() - t0);
  }
  return { p50: percentile(latency, 50), p95: percentile(latency, 95), items };
}

const row = (api: Timing, raw: Timing) => `API p50 ${ms(api.p50)}, p95 ${ms(api.p95)} (${api.items} rows) | raw SQL p50 ${ms(raw.p50)}, p95 ${ms(raw.p95)}`;

/**
 * The console's Resources and Audit pages with 50,000 rows each, as the pages ask (50 a page): the
 * first page, a search or filter, and the 11th page, through the gateway with the admin token.
 * Beside each, the raw SQL reading the same page from the control database in the same run. The
 * inventory is the discovery bench's 50,000 tables; the audit log is filled to 50,000 entries
 * through the access service's own append (a real hash chain), so the chain check is timed too.
 */
export async function benchConsolePages(stack: TestStack, integrationId: string): Promise<Record<string, string>> {
  const api = async (path: string) => {
    const res = await stack.api('GET', path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body as { items: Array<Record<string, unknown>>; nextPageToken?: string };
  };
  const tokenAfter = async (path: string, pages: number) => {
    let token = '';
    for (let i = 0; i < pages; i += 1) token = encodeURIComponent((await api(`${path}${token ? `&pageToken=${token}` : ''}`)).nextPageToken!);
    return token;
  };
  const control = async (sql: string, params: unknown[]) => (await stack.control(sql, params)).length;

  // Resources: the page's query, and the same rows read directly.
  const resources = `/api/v1/resources?integrationId=${integrationId}&type=postgresql-table&pageSize=${PAGE}`;
  const resourcesToken = await tokenAfter(resources, 10);
  const [after] = await stack.control<{ path: string; id: string }>(
    "SELECT path, id FROM discovery.resources WHERE integration_id = $1 AND type = 'postgresql-table' ORDER BY path, id OFFSET $2 LIMIT 1",
    [integrationId, 10 * PAGE - 1],
  );
  const RESOURCE_PAGE = `SELECT r.*, a.tags FROM discovery.resources r LEFT JOIN discovery.api_tags a ON a.resource_id = r.id
    WHERE r.integration_id = $1 AND r.type = 'postgresql-table' AND ($2::text IS NULL OR strpos(lower(r.path), $2) > 0)
      AND ($3::text IS NULL OR (r.path, r.id) > ($3, $4::uuid))
    ORDER BY r.path, r.id LIMIT ${PAGE + 1}`;
  const resourceFigures = {
    first: [
      await time(SAMPLES, async () => (await api(resources)).items.length),
      await time(SAMPLES, () => control(RESOURCE_PAGE, [integrationId, null, null, null])),
    ],
    search: [
      await time(SAMPLES, async () => (await api(`${resources}&q=t99`)).items.length),
      await time(SAMPLES, () => control(RESOURCE_PAGE, [integrationId, 't99', null, null])),
    ],
    deep: [
      await time(SAMPLES, async () => (await api(`${resources}&pageToken=${resourcesToken}`)).items.length),
      await time(SAMPLES, () => control(RESOURCE_PAGE, [integrationId, null, after.path, after.id])),
    ],
  } as const;

  // Audit: fill the log through the access service's append, as every service writes it.
  const bus = new MessageBus(stack.natsUrl, 'bench-console', 120_000);
  await bus.connect();
  const fillStarted = performance.now();
  try {
    const [{ n: existing }] = await stack.control<{ n: number }>('SELECT count(*)::int AS n FROM access.audit_log');
    const missing = Math.max(0, AUDIT_ENTRIES - existing);
    await pool(
      Array.from({ length: missing }, (_, i) => i),
      8,
      (i) =>
        bus.request(Contracts.accessAuditAppend, {
          action: i % 100 === 0 ? 'bench.marked' : 'bench.filled',
          actor: SYSTEM_ACTOR,
          targetType: 'bench',
          targetId: `entry-${i}`,
          details: { i },
        }),
    );
  } finally {
    await bus.close();
  }
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const [{ n: entries }] = await stack.control<{ n: number }>('SELECT count(*)::int AS n FROM access.audit_log');
  const audit = `/api/v1/audit?pageSize=${PAGE}`;
  const auditToken = await tokenAfter(audit, 10);
  const [{ seq: beforeSeq }] = await stack.control<{ seq: string }>(
    'SELECT seq FROM access.audit_log WHERE seq IS NOT NULL ORDER BY seq DESC OFFSET $1 LIMIT 1',
    [10 * PAGE - 1],
  );
  const AUDIT_PAGE = `SELECT * FROM access.audit_log WHERE seq IS NOT NULL AND ($1::text IS NULL OR action = $1) AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT ${PAGE + 1}`;
  const auditFigures = {
    first: [await time(SAMPLES, async () => (await api(audit)).items.length), await time(SAMPLES, () => control(AUDIT_PAGE, [null, null]))],
    filter: [
      await time(SAMPLES, async () => (await api(`${audit}&action=bench.marked`)).items.length),
      await time(SAMPLES, () => control(AUDIT_PAGE, ['bench.marked', null])),
    ],
    deep: [
      await time(SAMPLES, async () => (await api(`${audit}&pageToken=${auditToken}`)).items.length),
      await time(SAMPLES, () => control(AUDIT_PAGE, [null, beforeSeq])),
    ],
  } as const;
  const verifyStarted = performance.now();
  const verify = await stack.api('GET', '/api/v1/audit/verify');
  const verifyMs = performance.now() - verifyStarted;

  return {
    'console pages: samples': `${SAMPLES} calls per figure, ${PAGE} rows a page, admin token through the gateway`,
    'Resources page, 50,000 tables: first page': row(...resourceFigures.first),
    'Resources page: search q=t99': row(...resourceFigures.search),
    'Resources page: 11th page': row(...resourceFigures.deep),
    'audit log filled through access.audit.append': `${entries} entries (${fillSeconds.toFixed(1)} s)`,
    'Audit page: first page': row(...auditFigures.first),
    'Audit page: filter action=bench.marked (1 in 100)': row(...auditFigures.filter),
    'Audit page: 11th page': row(...auditFigures.deep),
    'Audit page: chain check badge (GET /audit/verify, once)': `${ms(verifyMs)}, ${verify.body.ok ? 'healthy' : 'BROKEN'} (${verify.body.checked ?? '?'} entries)`,
  };
}
