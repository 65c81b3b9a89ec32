import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { GENERATED_PASSWORD_ITERATIONS, quoteIdent, quoteLiteral, scramVerifier } from '@latchkey/pg-access';
import { PgCluster, startPgCluster, startTestStack, TestStack } from '@latchkey/testing';
import { benchServiceEnv, serviceMemory } from './stats';

export interface BenchTarget {
  pg: PgCluster;
  stack: TestStack;
  integrationId: string;
  /** A raw session as the connector user on the bench database, for the raw-SQL side. */
  connect(): Promise<Client>;
  /**
   * With BENCH_CONTROL_STATEMENTS=1 the control database runs on a private cluster with
   * pg_stat_statements: `since()` starts a window, and its answer lists the statements that took
   * the most of the control database's time in it (planning and execution). Null otherwise.
   */
  controlStatements: { since(): Promise<() => Promise<string>> } | null;
  dispose(): Promise<void>;
}

/** `BENCH_CONNECTOR=createrole`: the connector as users run it (no superuser), else a superuser. */
export const BENCH_CONNECTOR = process.env.BENCH_CONNECTOR === 'createrole' ? 'createrole' : 'superuser';

/**
 * What every grant bench stands on: a private scram-only cluster with a `bench` database holding
 * `app.orders`, a connector login (BENCH_CONNECTOR: a superuser, or a CREATEROLE role with the
 * preflight's grants that owns the database), the whole stack (services' env from `env`), and an
 * ACTIVE integration on that database.
 */
export async function startBenchTarget(env: Record<string, string>): Promise<BenchTarget> {
  const connector = { user: 'latchkey_bench', password: randomBytes(12).toString('hex') };
  const pg = await startPgCluster({ hba: 'scram' });
  let stack: TestStack | undefined;
  let control: PgCluster | undefined;
  const dispose = async () => {
    await stack?.dispose();
    await control?.stop();
    await pg.stop();
  };
  try {
    if (BENCH_CONNECTOR === 'superuser') {
      await pg.query(`CREATE ROLE ${quoteIdent(connector.user)} SUPERUSER LOGIN PASSWORD ${quoteLiteral(connector.password)}`);
      await pg.query('CREATE DATABASE bench');
      await pg.query('CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY, total numeric)', undefined, 'bench');
    } else {
      await pg.query(
        `CREATE ROLE ${quoteIdent(connector.user)} LOGIN CREATEROLE PASSWORD ${quoteLiteral(connector.password)}; GRANT pg_signal_backend TO ${quoteIdent(connector.user)}`,
      );
      await pg.query(`CREATE DATABASE bench OWNER ${quoteIdent(connector.user)}`);
      await pg.query(
        `SET ROLE ${quoteIdent(connector.user)}; CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY, total numeric)`,
        undefined,
        'bench',
      );
    }
    if (process.env.BENCH_CONTROL_STATEMENTS === '1') {
      control = await startPgCluster({ hba: 'trust' });
      await control.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
      await control.halt();
      await control.resume();
      await control.query('ALTER SYSTEM SET pg_stat_statements.track_planning = on');
      await control.query('SELECT pg_reload_conf()');
      await control.query('CREATE EXTENSION pg_stat_statements');
    }
    stack = await startTestStack({
      env: benchServiceEnv({ LOG_LEVEL: 'warn', ...env }),
      ...(control ? { controlServerUrl: `postgres://${control.superuser}@127.0.0.1:${control.port}/postgres` } : {}),
    });
    const created = await stack.api('POST', '/api/v1/integrations', {
      body: {
        name: 'bench',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'bench', sslmode: 'disable' },
        secret: { store: 'builtin', username: connector.user, password: connector.password },
      },
    });
    if (created.body.status !== 'ACTIVE') throw new Error(`bench integration is ${created.body.status}: ${created.body.statusReason}`);
    await startupReleases();
    return {
      pg,
      stack,
      integrationId: created.body.id,
      connect: async () => {
        const client = new Client({ host: '127.0.0.1', port: pg.port, user: connector.user, password: connector.password, database: 'bench' });
        await client.connect();
        return client;
      },
      controlStatements: control ? statementsOf(control) : null,
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/**
 * The raw SQL a grant comes down to, for the side-by-side figure: a login role with a fresh
 * client-computed SCRAM verifier of as many iterations as Latchkey's, VALID UNTIL, CONNECTION
 * LIMIT, in the marker and profile roles. `iterations`: another count, for the reference figure
 * of PostgreSQL's default (4,096), which costs the server a key derivation of that many.
 */
export async function rawGrant(client: Client, role: string, profile: string, iterations = GENERATED_PASSWORD_ITERATIONS): Promise<void> {
  const verifier = scramVerifier(randomBytes(24).toString('base64url'), { iterations });
  const until = new Date(Date.now() + 3_600_000).toISOString();
  await client.query('BEGIN');
  await client.query(
    `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(verifier)} VALID UNTIL ${quoteLiteral(until)} CONNECTION LIMIT 10 IN ROLE ${quoteIdent('latchkey_managed')}, ${quoteIdent(profile)}`,
  );
  await client.query('COMMIT');
}

/** The control database's most frequent statements (round trips) between `since()` and the call of its answer. */
function statementsOf(control: PgCluster): { since(): Promise<() => Promise<string>> } {
  return {
    since: async () => {
      await control.query('SELECT pg_stat_statements_reset()');
      return async () => {
        const rows = await control.query<{ ms: number; calls: string; plan: number; query: string }>(
          `SELECT round((total_exec_time + total_plan_time)::numeric, 0)::float AS ms, calls, round(total_plan_time::numeric, 0)::float AS plan,
                  regexp_replace(query, '\\s+', ' ', 'g') AS query
             FROM pg_stat_statements ORDER BY calls DESC, total_exec_time + total_plan_time DESC LIMIT 30`,
        );
        const [total] = await control.query<{ ms: number; calls: string; plan: number }>(
          `SELECT round(sum(total_exec_time + total_plan_time)::numeric, 0)::float AS ms, sum(calls) AS calls, round(sum(total_plan_time)::numeric, 0)::float AS plan
             FROM pg_stat_statements`,
        );
        return (
          `${total.ms} ms (planning ${total.plan}) in ${total.calls} calls, the most:` +
          rows.map((r) => `\n      ${r.ms} ms (planning ${r.plan}) in ${r.calls} calls: ${r.query.slice(0, 220)}`).join('')
        );
      };
    },
  };
}

/** PostgreSQL's default `scram_iterations`: what `CREATE ROLE ... PASSWORD 'plaintext'` costs the server. */
export const POSTGRES_DEFAULT_ITERATIONS = 4096;

/** Raw grants one at a time (`samples` of them, roles named `<prefix><i>`), each one's milliseconds. */
export async function rawLatencies(client: Client, prefix: string, profile: string, samples: number, iterations?: number): Promise<number[]> {
  const latency: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const t0 = performance.now();
    await rawGrant(client, `${prefix}${i}`, profile, iterations);
    latency.push(performance.now() - t0);
  }
  return latency;
}

/**
 * Waits until every service has given back the memory its start left (a memory-reducing
 * collection at its first idle check, 5-10 s after it started: see memory-release.ts), at most
 * 30 s: those collections cost 0.1-0.2 s of CPU each and fell inside the first timed figures.
 * Seen from outside as the service's RSS at least 8 MB below its peak.
 */
async function startupReleases(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const services = serviceMemory();
    if (services.length > 0 && services.every((m) => m.peakMb - m.rssMb >= 8)) return;
    await sleep(250);
  }
}
