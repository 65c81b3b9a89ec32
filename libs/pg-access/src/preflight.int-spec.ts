import { PreflightReport, type PreflightCheck } from '@latchkey/contracts';
import { freePort, type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { TargetConnectionParams } from './connection';
import { runPreflight } from './preflight';
import { quoteIdent, quoteLiteral } from './quote';

const OWNER = 'app owner';
const CONNECTOR = 'lk "connector"; ü';
const CONNECTOR_PASSWORD = 'c0nnector-p4ss\'"\\;';
const APP_DB = 'appdb';
const HOSTILE_DB = 'db "quoted"; DROP DATABASE postgres; -- é🔑';
const HOSTILE_SCHEMA = 'we;ird "schéma" 🔑';

let cluster: PgCluster;

beforeAll(async () => {
  cluster = await startPgCluster({ tls: { serverCertHosts: ['localhost'] }, hba: 'scram' });
  const setup = [
    `CREATE ROLE ${quoteIdent(OWNER)} NOLOGIN`,
    `CREATE ROLE ${quoteIdent(CONNECTOR)} LOGIN PASSWORD ${quoteLiteral(CONNECTOR_PASSWORD)}`,
    `CREATE DATABASE ${quoteIdent(APP_DB)} OWNER ${quoteIdent(OWNER)}`,
    `CREATE DATABASE ${quoteIdent(HOSTILE_DB)} OWNER ${quoteIdent(OWNER)}`,
  ];
  for (const sql of setup) await cluster.query(sql);
  const schema = quoteIdent(HOSTILE_SCHEMA);
  const objects = [
    `SET ROLE ${quoteIdent(OWNER)};`,
    `CREATE SCHEMA ${schema};`,
    `CREATE TABLE ${schema}."t 1" (id serial PRIMARY KEY, v text);`,
    `CREATE VIEW ${schema}."v;1" AS SELECT v FROM ${schema}."t 1";`,
    'CREATE TABLE public.accounts (id bigint GENERATED ALWAYS AS IDENTITY, name text);',
    'RESET ROLE;',
  ].join('\n');
  for (const db of [APP_DB, HOSTILE_DB]) await cluster.query(objects, undefined, db);
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.stop();
});

function connectorParams(): TargetConnectionParams {
  return { ...cluster.connectionParams(), username: CONNECTOR, password: CONNECTOR_PASSWORD };
}

function check(report: PreflightReport, id: PreflightCheck['id'], target?: string): PreflightCheck {
  const found = report.checks.find((c) => c.id === id && c.target === target);
  if (!found) throw new Error(`No ${id} check${target ? ` for ${target}` : ''} in ${JSON.stringify(report.checks)}`);
  return found;
}

describe('runPreflight', () => {
  it('finds everything in order for a superuser', async () => {
    const report = await runPreflight(cluster.connectionParams(), { connectorId: 'local' });
    expect(PreflightReport.parse(report)).toEqual(report);
    expect(report).toMatchObject({
      ok: true,
      connected: true,
      tls: true,
      user: 'postgres',
      superuser: true,
      connectorId: 'local',
      serverVersionNum: expect.any(Number),
    });
    expect(report.serverVersion).toMatch(/^15\./);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(
      report.checks
        .filter((c) => c.id === 'grant_database')
        .map((c) => c.target)
        .sort(),
    ).toEqual([APP_DB, HOSTILE_DB, 'postgres'].sort());
    expect(new Date(report.testedAt).toISOString()).toBe(report.testedAt);
  });

  it('names what a plain login role lacks, with SQL that fixes it', async () => {
    const before = await runPreflight(connectorParams(), { connectorId: 'c-1' });
    expect(before).toMatchObject({ ok: false, connected: true, tls: true, user: CONNECTOR, superuser: false });
    expect(check(before, 'connect').ok).toBe(true);
    expect(check(before, 'create_roles')).toMatchObject({ ok: false, fix: `ALTER ROLE ${quoteIdent(CONNECTOR)} CREATEROLE;` });
    expect(check(before, 'terminate_backends')).toMatchObject({ ok: false, fix: `GRANT "pg_signal_backend" TO ${quoteIdent(CONNECTOR)};` });
    expect(check(before, 'admin_option')).toMatchObject({ ok: false, fix: `GRANT ${quoteIdent(OWNER)} TO ${quoteIdent(CONNECTOR)} WITH ADMIN OPTION;` });
    expect(check(before, 'admin_option').detail).toContain('Without CREATEROLE');

    const hostile = check(before, 'grant_database', HOSTILE_DB);
    expect(hostile.ok).toBe(false);
    expect(hostile.detail).toContain('cannot grant CONNECT');
    // The hostile schema and public; a table, a view and public.accounts; their two sequences.
    expect(hostile.detail).toContain('lacks the grant option on 2 schemas (USAGE), 3 tables (SELECT), 2 sequences (USAGE).');
    expect(hostile.fix).toContain(`GRANT CONNECT ON DATABASE ${quoteIdent(HOSTILE_DB)} TO ${quoteIdent(CONNECTOR)} WITH GRANT OPTION;`);
    expect(hostile.fix).toContain(`GRANT ALL ON ALL TABLES IN SCHEMA ${quoteIdent(HOSTILE_SCHEMA)} TO ${quoteIdent(CONNECTOR)} WITH GRANT OPTION;`);
    expect(check(before, 'grant_database', APP_DB).ok).toBe(false);
    expect(check(before, 'grant_database', 'postgres').ok).toBe(false);
    expect(JSON.stringify(before)).not.toContain(CONNECTOR_PASSWORD);

    // An administrator runs every fix as it is, each grant_database fix in its own database.
    for (const c of before.checks.filter((c) => !c.ok)) await cluster.query(c.fix!, undefined, c.id === 'grant_database' ? c.target : 'postgres');

    const after = await runPreflight(connectorParams(), { connectorId: 'c-1' });
    expect(after.checks.filter((c) => !c.ok)).toEqual([]);
    expect(after.ok).toBe(true);
    expect(check(after, 'admin_option').detail).toContain('CREATEROLE lets it grant');
    // The fix ran for real, with every hostile name intact.
    const granted = await cluster.query<{ ok: boolean }>(
      "SELECT has_table_privilege($1, format('%I.%I', $2::text, 't 1'), 'SELECT WITH GRANT OPTION') AS ok",
      [CONNECTOR, HOSTILE_SCHEMA],
      HOSTILE_DB,
    );
    expect(granted).toEqual([{ ok: true }]);
  });

  it('inspects at most maxDatabases databases, checking CONNECT on the rest', async () => {
    const report = await runPreflight(cluster.connectionParams(), { connectorId: 'local', maxDatabases: 1 });
    const databases = report.checks.filter((c) => c.id === 'grant_database');
    expect(databases).toHaveLength(3);
    expect(databases.filter((c) => c.detail.includes('not inspected'))).toHaveLength(2);
  });

  it('reports an unreachable server without throwing', async () => {
    const report = await runPreflight({ ...connectorParams(), port: await freePort() }, { connectorId: 'c-1' });
    expect(PreflightReport.parse(report)).toEqual(report);
    expect(report).toMatchObject({ ok: false, connected: false, tls: false, connectorId: 'c-1' });
    expect(report.checks).toEqual([
      { id: 'connect', ok: false, detail: expect.stringContaining('cannot reach 127.0.0.1'), fix: expect.stringContaining('check the host name and port') },
    ]);
  });

  it('reports a wrong password without echoing it', async () => {
    const report = await runPreflight({ ...connectorParams(), password: 'not-the-password' }, { connectorId: 'c-1' });
    expect(report.connected).toBe(false);
    expect(report.checks[0]!.detail).toContain('password authentication failed');
    expect(JSON.stringify(report)).not.toContain('not-the-password');
  });
});
