import { Client } from 'pg';
import type { ResourceKind } from '@latchkey/contracts';
import { freePort, type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { TargetConnectionParams } from '../connection';
import { TargetConnectionError } from '../connection-error';
import { quoteIdent, quoteLiteral } from '../quote';
import { discoverInstance, DiscoveryReadError, type DiscoveredObject } from './discover';

const CONNECTOR = 'discovery "reader"';
const PASSWORD = 'r3ader-pw\'"\\';
const OWNER = 'app owner';
const HOSTILE_DB = 'db "quoted"; DROP DATABASE postgres; -- é🔑';
const HOSTILE_SCHEMA = 'we;ird "schéma" 🔑';
// Exactly 63 bytes in UTF-8, the longest name PostgreSQL keeps.
const LONG_TABLE = `${'t'.repeat(59)}🔑`;
const HOSTILE_ROLE = 'role "x"; DROP ROLE postgres; --';
const ALL_KINDS = new Set<ResourceKind>(['database', 'schema', 'table', 'partitioned_table', 'view', 'materialized_view', 'foreign_table', 'sequence', 'role']);

let cluster: PgCluster;
let tempSession: Client;

const params = (overrides: Partial<TargetConnectionParams> = {}): TargetConnectionParams => ({
  ...cluster.connectionParams('app'),
  username: CONNECTOR,
  password: PASSWORD,
  ...overrides,
});

async function discoverAll(kinds: ReadonlySet<ResourceKind>, overrides: Partial<TargetConnectionParams> = {}, pageSize = 2) {
  const objects: DiscoveredObject[] = [];
  const pages: number[] = [];
  const outcome = await discoverInstance(params(overrides), { kinds, pageSize }, async (page) => {
    pages.push(page.length);
    objects.push(...page);
  });
  return { objects, outcome, pages };
}

/** One line per object, every field, for exact comparison. */
const line = (o: DiscoveredObject) => JSON.stringify([o.kind, o.database ?? null, o.schema ?? null, o.name, o.owner, o.comment, o.managed]);
const lines = (objects: DiscoveredObject[]) => objects.map(line).sort();

beforeAll(async () => {
  cluster = await startPgCluster({ hba: 'scram' });
  await cluster.query(
    [
      `CREATE ROLE ${quoteIdent(CONNECTOR)} LOGIN PASSWORD ${quoteLiteral(PASSWORD)}`,
      `CREATE ROLE ${quoteIdent(OWNER)} NOLOGIN`,
      `COMMENT ON ROLE ${quoteIdent(OWNER)} IS 'owns the app\nlatchkey:team=core'`,
      `CREATE ROLE ${quoteIdent(HOSTILE_ROLE)} LOGIN`,
      'CREATE ROLE latchkey_managed NOLOGIN',
      'CREATE ROLE latchkey_orphan_owner NOLOGIN',
      'CREATE ROLE lk_alice_0123456789ab LOGIN IN ROLE latchkey_managed',
      'CREATE ROLE lk_lookalike NOLOGIN',
    ].join(';\n'),
  );
  for (const db of ['app', HOSTILE_DB, 'locked']) await cluster.query(`CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(OWNER)}`);
  await cluster.query(`COMMENT ON DATABASE app IS 'latchkey:env=prod'`);
  await cluster.query(`REVOKE CONNECT ON DATABASE locked FROM PUBLIC`);
  await cluster.query('CREATE TABLE public.hidden_in_locked (id int)', undefined, 'locked');
  // A template database is never a target.
  await cluster.query('CREATE DATABASE tmpl IS_TEMPLATE true');

  await cluster.query(
    [
      `SET ROLE ${quoteIdent(OWNER)}`,
      'CREATE SCHEMA billing',
      `COMMENT ON SCHEMA billing IS 'Money.\nlatchkey:owner=payments'`,
      // Its TOAST table lives in pg_toast and must not show up.
      'CREATE TABLE billing.invoices (id serial PRIMARY KEY, body text)',
      `COMMENT ON TABLE billing.invoices IS 'Invoices sent.\nlatchkey:owner=billing-team\nlatchkey:pii=true\nlatchkey:bad key=ignored'`,
      'CREATE VIEW billing.open_invoices AS SELECT id FROM billing.invoices',
      'CREATE MATERIALIZED VIEW billing.totals AS SELECT count(*) AS n FROM billing.invoices',
      'CREATE SEQUENCE billing.invoice_numbers',
      'CREATE TABLE billing.events (at date NOT NULL) PARTITION BY RANGE (at)',
      `CREATE TABLE billing.events_2025 PARTITION OF billing.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
      'RESET ROLE',
      'CREATE FOREIGN DATA WRAPPER dummy_fdw',
      'CREATE SERVER elsewhere FOREIGN DATA WRAPPER dummy_fdw',
      'CREATE FOREIGN TABLE billing.remote_rates (rate numeric) SERVER elsewhere',
      `CREATE SCHEMA ${quoteIdent(HOSTILE_SCHEMA)} AUTHORIZATION ${quoteIdent(OWNER)}`,
      `CREATE TABLE ${quoteIdent(HOSTILE_SCHEMA)}.${quoteIdent(LONG_TABLE)} (id int)`,
      `CREATE TABLE ${quoteIdent(HOSTILE_SCHEMA)}."t 1 ""x""" (id int)`,
    ].join(';\n'),
    undefined,
    'app',
  );
  await cluster.query('CREATE TABLE public."Mixed Case" (id int)', undefined, HOSTILE_DB);
  // Another session's temporary table sits in a pg_temp_N schema while the session lives.
  tempSession = new Client({ host: cluster.host, port: cluster.port, user: cluster.superuser, password: cluster.superuserPassword, database: 'app' });
  await tempSession.connect();
  await tempSession.query('CREATE TEMP TABLE scratch (id int)');
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await tempSession?.end();
  await cluster?.stop();
});

const db = (name: string, owner: string, comment: string | null = null): DiscoveredObject => ({
  kind: 'database',
  name,
  owner,
  comment,
  managed: false,
  unrequestableReason: null,
});
// Reasons are compared apart (see escalation.int-spec.ts); `line` leaves them out.
const role = (name: string, managed = false, comment: string | null = null): DiscoveredObject => ({
  kind: 'role',
  name,
  owner: null,
  comment,
  managed,
  unrequestableReason: null,
});
const inDb = (
  database: string,
  kind: ResourceKind,
  schema: string | undefined,
  name: string,
  comment: string | null = null,
  owner = OWNER,
): DiscoveredObject => ({
  kind,
  database,
  ...(schema === undefined ? {} : { schema }),
  name,
  owner,
  comment,
  managed: false,
  unrequestableReason: null,
});
const publicSchema = (database: string) => inDb(database, 'schema', undefined, 'public', 'standard public schema', 'pg_database_owner');

describe('discoverInstance', () => {
  it('finds exactly the databases, schemas, relations and roles, names intact, through pg_catalog', async () => {
    const { objects, outcome, pages } = await discoverAll(ALL_KINDS);
    expect(lines(objects)).toEqual(
      lines([
        db('postgres', 'postgres', 'default administrative connection database'),
        db('app', OWNER, 'latchkey:env=prod'),
        db(HOSTILE_DB, OWNER),
        db('locked', OWNER),
        role('postgres'),
        role(CONNECTOR),
        role(OWNER, false, 'owns the app\nlatchkey:team=core'),
        role(HOSTILE_ROLE),
        role('latchkey_managed', true),
        role('latchkey_orphan_owner', true),
        role('lk_alice_0123456789ab', true),
        role('lk_lookalike'),
        publicSchema('postgres'),
        publicSchema('app'),
        publicSchema(HOSTILE_DB),
        inDb('app', 'schema', undefined, 'billing', 'Money.\nlatchkey:owner=payments'),
        inDb('app', 'schema', undefined, HOSTILE_SCHEMA),
        inDb('app', 'table', 'billing', 'invoices', 'Invoices sent.\nlatchkey:owner=billing-team\nlatchkey:pii=true\nlatchkey:bad key=ignored'),
        inDb('app', 'view', 'billing', 'open_invoices'),
        inDb('app', 'materialized_view', 'billing', 'totals'),
        inDb('app', 'sequence', 'billing', 'invoice_numbers'),
        inDb('app', 'sequence', 'billing', 'invoices_id_seq'),
        inDb('app', 'partitioned_table', 'billing', 'events'),
        inDb('app', 'foreign_table', 'billing', 'remote_rates', null, cluster.superuser),
        inDb('app', 'table', HOSTILE_SCHEMA, LONG_TABLE, null, cluster.superuser),
        inDb('app', 'table', HOSTILE_SCHEMA, 't 1 "x"', null, cluster.superuser),
        inDb(HOSTILE_DB, 'table', 'public', 'Mixed Case', null, cluster.superuser),
      ]),
    );
    expect(Buffer.byteLength(LONG_TABLE)).toBe(63);
    expect(outcome.databasesRead.sort()).toEqual(['app', HOSTILE_DB, 'postgres'].sort());
    expect(outcome.skipped).toEqual([{ database: 'locked', reason: 'the connector user lacks CONNECT on this database' }]);
    // Paged: no page is larger than asked for.
    expect(Math.max(...pages)).toBeLessThanOrEqual(2);
  });

  it('keeps only the kinds asked for', async () => {
    const tables = await discoverAll(new Set<ResourceKind>(['table']), {}, 100);
    expect(tables.objects.map((o) => o.kind)).toEqual(tables.objects.map(() => 'table'));
    expect(tables.objects.map((o) => o.name).sort()).toEqual(['Mixed Case', LONG_TABLE, 'invoices', 't 1 "x"'].sort());

    const roles = await discoverAll(new Set<ResourceKind>(['role']));
    expect(roles.objects.every((o) => o.kind === 'role')).toBe(true);
    // Roles only: no database is visited.
    expect(roles.outcome).toEqual({ databasesRead: [], skipped: [] });
  });

  it('reports a database it cannot open as skipped, not as empty', async () => {
    await cluster.query(`GRANT CONNECT ON DATABASE locked TO ${quoteIdent(CONNECTOR)}`);
    await cluster.query('ALTER DATABASE locked CONNECTION LIMIT 0');
    try {
      const { objects, outcome } = await discoverAll(new Set<ResourceKind>(['table']));
      expect(outcome.skipped).toEqual([{ database: 'locked', reason: expect.stringContaining('too many connections') }]);
      expect(objects.some((o) => o.database === 'locked')).toBe(false);
    } finally {
      await cluster.query('ALTER DATABASE locked CONNECTION LIMIT -1');
    }
    const { objects } = await discoverAll(new Set<ResourceKind>(['table']));
    expect(objects.filter((o) => o.database === 'locked').map((o) => o.name)).toEqual(['hidden_in_locked']);
    await cluster.query(`REVOKE CONNECT ON DATABASE locked FROM ${quoteIdent(CONNECTOR)}`);
  });

  it('throws TargetConnectionError when the starting database cannot be reached, having reported nothing', async () => {
    const seen: DiscoveredObject[] = [];
    const attempt = discoverInstance(params({ port: await freePort() }), { kinds: ALL_KINDS }, async (page) => {
      seen.push(...page);
    });
    await expect(attempt).rejects.toBeInstanceOf(TargetConnectionError);
    await expect(attempt).rejects.toThrow(/cannot reach 127\.0\.0\.1/);
    expect(seen).toEqual([]);
    await expect(discoverAll(ALL_KINDS, { password: 'wrong' })).rejects.toThrow(/password authentication failed/);
  });

  it('passes a failure of the sink through as it is', async () => {
    const boom = new Error('control database down');
    await expect(discoverInstance(params(), { kinds: ALL_KINDS, pageSize: 3 }, () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('fails the read as a DiscoveryReadError when the starting session drops half-way', async () => {
    let pagesSeen = 0;
    const attempt = discoverInstance(params(), { kinds: ALL_KINDS, pageSize: 1, databaseConcurrency: 1 }, async () => {
      pagesSeen += 1;
      if (pagesSeen === 3) {
        await cluster.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = 'app'", [CONNECTOR]);
      }
    });
    await expect(attempt).rejects.toBeInstanceOf(DiscoveryReadError);
  });
});
