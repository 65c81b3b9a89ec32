import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { Contracts, ResourceKind } from '@latchkey/contracts';
import { discoverInstance, quoteIdent, quoteLiteral } from '@latchkey/pg-access';
import { startPgCluster, startTestStack, type PgCluster, type TestStack } from '@latchkey/testing';
import { benchConsolePages } from './console-pages.bench';
import { benchRequestable } from './requestable.bench';
import { benchServiceEnv } from './stats';

const TABLES = Number(process.env.BENCH_DISCOVERY_TABLES ?? 50_000);
const TABLES_PER_SCHEMA = 1000;
const RENAMED = 100;
const CONNECTOR_ID = 'bench-discovery';
const CONNECTOR = { user: 'latchkey_bench', password: randomBytes(12).toString('hex') };
const TARGET_MS = 2000;

type Changed = { integrationId: string; added: number; updated: number; removed: number; total: number; ms: number };

/**
 * Discovery of an instance with 50,000 tables (DESIGN.md: under 2 s), through the real service: a
 * discovery process of its own connector refreshes on the integration's creation and on request
 * (NATS -> BullMQ -> pg_catalog -> control database). Beside it, the same catalog read as one raw
 * SQL query, and pg-access's paged read without the writes. Memory is the discovery process's RSS,
 * sampled every 10 ms.
 */
export async function benchDiscovery(): Promise<Record<string, string | number>> {
  const pg = await startPgCluster({ hba: 'scram' });
  let stack: TestStack | undefined;
  let nats: NatsConnection | undefined;
  try {
    const createStarted = performance.now();
    await createTables(pg);
    const fixtureMs = performance.now() - createStarted;

    stack = await startTestStack({ env: benchServiceEnv({ LOG_LEVEL: 'warn' }) });
    // A connector of its own: its discovery process alone runs these refreshes, and its memory can be read.
    const discovery = stack.stack.startProcess('discovery-bench', 'discovery', { CONNECTOR_ID });
    for (const service of ['provisioning', 'rotation'] as const) stack.stack.startProcess(`${service}-bench`, service, { CONNECTOR_ID });
    await stack.stack.waitForConnector(stack.adminToken, CONNECTOR_ID);
    const rss = new RssSampler(discovery.pid!, () => stack!.stack.output('discovery-bench'));

    const changed: Changed[] = [];
    nats = await connect({ servers: stack.natsUrl });
    nats.subscribe(Contracts.discoveryResourcesChanged.subject, {
      callback: (_err, msg) => {
        changed.push((msg.json() as { data: Changed }).data);
      },
    });
    const nextChange = async (after: number) => {
      const deadline = Date.now() + 120_000;
      while (changed.length <= after) {
        if (Date.now() > deadline) throw new Error(`no discovery.resources.changed within 120 s:\n${stack!.stack.output('discovery-bench').slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return changed[after];
    };

    const rssBefore = rss.current();
    const measure = async (trigger: () => Promise<unknown>) => {
      const seen = changed.length;
      rss.start();
      const t0 = performance.now();
      await trigger();
      const event = await nextChange(seen);
      const wallMs = performance.now() - t0;
      return { event, wallMs, peakRss: rss.stop() };
    };

    let integrationId = '';
    const first = await measure(async () => {
      const res = await stack!.api('POST', '/api/v1/integrations', {
        body: {
          name: 'bench discovery',
          type: 'postgresql',
          connectorId: CONNECTOR_ID,
          connectedResourceTypes: ['postgresql-database', 'postgresql-schema', 'postgresql-table', 'postgresql-role'],
          config: { hostname: '127.0.0.1', port: pg.port, dbname: 'bench', sslmode: 'disable' },
          secret: { store: 'builtin', username: CONNECTOR.user, password: CONNECTOR.password },
        },
      });
      if (res.status !== 201) throw new Error(`integration not created: ${res.text}`);
      integrationId = res.body.id;
    });
    const refresh = () => stack!.api('POST', `/api/v1/integrations/${integrationId}/refresh`);
    const unchanged = await measure(refresh);
    await renameTables(pg);
    const renamed = await measure(refresh);
    const tablesFound = (
      await stack.control<{ n: number }>("SELECT count(*)::int AS n FROM discovery.resources WHERE integration_id = $1 AND kind = 'table'", [integrationId])
    )[0].n;

    const requestable = await benchRequestable(stack, integrationId, Math.ceil(TABLES / TABLES_PER_SCHEMA));
    // BENCH_CONSOLE_PAGES=0 leaves out the console pages (their 50,000 audit entries take minutes to append).
    const consolePages = process.env.BENCH_CONSOLE_PAGES === '0' ? {} : await benchConsolePages(stack, integrationId);
    const rawMs = await timeRawCatalogQuery(pg);
    const readOnlyMs = await timeCatalogRead(pg);

    const row = (r: { event: Changed; wallMs: number }, call = 'the API call') =>
      `${r.event.ms} ms in the service, ${Math.round(r.wallMs)} ms from ${call} (+${r.event.added} ~${r.event.updated} -${r.event.removed}, ${r.event.total} resources)`;
    return {
      'tables on the instance': `${TABLES} (found ${tablesFound}; fixture made in ${(fixtureMs / 1000).toFixed(1)} s)`,
      'first refresh (every resource added)': row(first, 'the create call, its connection test included'),
      'refresh, nothing changed': row(unchanged),
      [`refresh, ${RENAMED} tables renamed`]: row(renamed),
      'raw SQL: one pg_catalog query for every relation': `${Math.round(rawMs)} ms`,
      'pg-access catalog read alone (paged, no inventory writes)': `${Math.round(readOnlyMs)} ms`,
      'target (DESIGN.md)': `under ${TARGET_MS} ms per refresh: ${Math.max(first.event.ms, unchanged.event.ms, renamed.event.ms) < TARGET_MS ? 'met' : 'MISSED'}`,
      'discovery process RSS before': mb(rssBefore),
      'discovery process peak RSS during the refreshes': `${mb(Math.max(first.peakRss, unchanged.peakRss, renamed.peakRss))} (first ${mb(first.peakRss)}, unchanged ${mb(unchanged.peakRss)}, renamed ${mb(renamed.peakRss)})`,
      ...requestable,
      ...consolePages,
    };
  } finally {
    await nats?.close();
    await stack?.dispose();
    await pg.stop();
  }
}

/**
 * TABLES tables (each with its TOAST table, as real ones have) in schemas of TABLES_PER_SCHEMA,
 * one commit per schema (one transaction would run out of lock slots). The DO block reads its
 * numbers from session settings, so that they are bound rather than written into the SQL.
 */
async function createTables(pg: PgCluster): Promise<void> {
  await pg.query(`CREATE ROLE ${quoteIdent(CONNECTOR.user)} SUPERUSER LOGIN PASSWORD ${quoteLiteral(CONNECTOR.password)}`);
  await pg.query('CREATE DATABASE bench');
  await inBench(pg, async (client) => {
    await client.query("SELECT set_config('bench.tables', $1, false), set_config('bench.per_schema', $2, false)", [String(TABLES), String(TABLES_PER_SCHEMA)]);
    await client.query(`
      DO $$
      DECLARE
        total int := current_setting('bench.tables')::int;
        per int := current_setting('bench.per_schema')::int;
      BEGIN
        FOR s IN 1..ceil(total::numeric / per)::int LOOP
          EXECUTE format('CREATE SCHEMA s%s', s);
          FOR t IN 1..least(per, total - (s - 1) * per) LOOP
            EXECUTE format('CREATE TABLE s%s.t%s (id bigint, note text)', s, t);
          END LOOP;
          COMMIT;
        END LOOP;
      END $$`);
  });
}

async function renameTables(pg: PgCluster): Promise<void> {
  await inBench(pg, async (client) => {
    await client.query("SELECT set_config('bench.renamed', $1, false)", [String(RENAMED)]);
    await client.query(`
      DO $$
      BEGIN
        FOR i IN 1..current_setting('bench.renamed')::int LOOP
          EXECUTE format('ALTER TABLE s1.t%s RENAME TO r%s', i, i);
        END LOOP;
      END $$`);
  });
}

async function inBench<T>(pg: PgCluster, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: pg.host, port: pg.port, user: CONNECTOR.user, password: CONNECTOR.password, database: 'bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The whole relation list as one query, unpaged and unwritten: the floor a refresh is compared with. */
async function timeRawCatalogQuery(pg: PgCluster): Promise<number> {
  return inBench(pg, async (client) => {
    const t0 = performance.now();
    await client.query(`
      SELECT c.oid, n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), d.description
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND NOT c.relispartition
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`);
    return performance.now() - t0;
  });
}

async function timeCatalogRead(pg: PgCluster): Promise<number> {
  const kinds = new Set(ResourceKind.options);
  const t0 = performance.now();
  await discoverInstance(
    { ...pg.connectionParams('bench'), username: CONNECTOR.user, password: CONNECTOR.password, sslmode: 'disable' },
    { kinds },
    async () => undefined,
  );
  return performance.now() - t0;
}

/** Samples a process's resident memory from /proc every 10 ms. */
class RssSampler {
  private timer?: NodeJS.Timeout;
  private peak = 0;

  /** Set once the process is gone: the sample stops and `stop` says so with what it printed. */
  private gone = false;

  constructor(
    private readonly pid: number,
    private readonly outputOf: () => string,
  ) {}

  current(): number {
    let status: string;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      this.gone = true;
      clearInterval(this.timer);
      return 0;
    }
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  }

  start(): void {
    this.peak = this.current();
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, this.current());
    }, 10);
  }

  stop(): number {
    clearInterval(this.timer);
    const peak = Math.max(this.peak, this.current());
    if (this.gone) throw new Error(`the discovery process ${this.pid} exited during the refresh:\n${this.outputOf().slice(-4000)}`);
    return peak;
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
