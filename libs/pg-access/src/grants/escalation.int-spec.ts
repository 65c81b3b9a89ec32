import type { Client } from 'pg';
import type { ResourceKind } from '@latchkey/contracts';
import { PG_VERSIONS, type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { discoverInstance, type DiscoveredObject } from '../discovery/discover';
import { runPreflight } from '../preflight';
import { quoteIdent, quoteLiteral } from '../quote';
import { applyGrant } from './apply-grant';
import { GrantError } from './grant-error';
import type { GrantTargetItem } from './grant-types';
import { personalRoleName, profileRoleName } from './role-names';
import { generatePassword } from './scram';
import { DANGEROUS_PREDEFINED_ROLES } from './unrequestable-roles';

/**
 * Membership in a role is handed out only when neither the role nor anything it reaches through
 * pg_auth_members holds more than a grant may give, on every supported major; and Latchkey's own
 * control database is never discovered, offered, fixed or granted on. The connector here is a
 * superuser, the worst case: PostgreSQL itself would let it grant anything.
 */
const APP = 'app';
const CONTROL_DB = 'latchkey_ctl';
const CONNECTOR = 'esc_connector';
const CONNECTOR_PASSWORD = 'esc-connector-password';
const clusters = new Map<number, PgCluster>();
const refusedByMajor: Record<number, number> = {};
const KINDS = new Set<ResourceKind>(['database', 'schema', 'table', 'role']);

const member = (role: string): GrantTargetItem => ({ resourceType: 'postgresql-role', database: APP, role, permission: 'MEMBER' });
const TABLE_ITEM: GrantTargetItem = { resourceType: 'postgresql-table', database: APP, schema: 'public', table: 't', permission: 'READ_ONLY' };
const predefinedOf = (major: number) => DANGEROUS_PREDEFINED_ROLES.filter((r) => r.since <= major).map((r) => r.name);

/** Each dangerous role of the fixture, with what its reason must say. */
function dangerousRoles(major: number): Array<[string, RegExp]> {
  return [
    ['esc_super', /^"esc_super" is a superuser$/],
    ['esc_chain_c', /^"esc_chain_c" is a member of "esc_super" \(directly\), which is a superuser$/],
    ['esc_chain_a', /^"esc_chain_a" is a member of "esc_super" \(through 2 other roles\), which is a superuser$/],
    ['esc_admin_only', /"esc_super" \(directly\), which is a superuser/],
    ['esc_createrole', /^"esc_createrole" has CREATEROLE$/],
    ['esc_createdb', /^"esc_createdb" has CREATEDB$/],
    ['esc_replication', /^"esc_replication" has REPLICATION$/],
    ['esc_bypassrls', /^"esc_bypassrls" has BYPASSRLS$/],
    ['esc_via_createdb', /"esc_createdb" \(directly\), which has CREATEDB/],
    ['esc_via_replication', /"esc_replication" \(through 1 other role\), which has REPLICATION/],
    ...predefinedOf(major).map((name): [string, RegExp] => [
      `esc_${name}`,
      new RegExp(`"esc_${name}" is a member of "${name}" \\(directly\\), which is PostgreSQL's predefined role that`),
    ]),
    ['esc_deep_files', /"pg_read_server_files" \(through 1 other role\)/],
    ['esc_monitor', /"esc_monitor" is a member of "pg_read_all_(settings|stats)" \(through 1 other role\)/],
    ['esc_control_owner', /owns Latchkey's control database/],
    ['esc_via_control', /"esc_control_owner" \(directly\), which owns Latchkey's control database/],
    ['esc_via_profile', /which is one of Latchkey's own roles/],
    ['esc_via_person', /"latchkey_managed" \(through 1 other role\), which is one of Latchkey's own roles/],
  ];
}

beforeAll(async () => {
  const started = await Promise.all(PG_VERSIONS.map(async (v) => [v.major, await startPgCluster({ binDir: v.binDir, hba: 'scram' })] as const));
  for (const [major, cluster] of started) clusters.set(major, cluster);
  await Promise.all(
    started.map(async ([major, cluster]) => {
      const adminOnly = major >= 16 ? 'WITH ADMIN OPTION, INHERIT FALSE, SET FALSE' : 'WITH ADMIN OPTION';
      await cluster.query(`CREATE DATABASE ${APP}`);
      await cluster.query(
        [
          `CREATE ROLE ${CONNECTOR} LOGIN CREATEROLE PASSWORD ${quoteLiteral(CONNECTOR_PASSWORD)}`,
          'CREATE ROLE esc_super SUPERUSER NOLOGIN',
          'CREATE ROLE esc_chain_c NOLOGIN IN ROLE esc_super',
          'CREATE ROLE esc_chain_b NOLOGIN IN ROLE esc_chain_c',
          'CREATE ROLE esc_chain_a NOLOGIN IN ROLE esc_chain_b',
          'CREATE ROLE esc_admin_only NOLOGIN',
          `GRANT esc_super TO esc_admin_only ${adminOnly}`,
          'CREATE ROLE esc_createrole NOLOGIN CREATEROLE',
          'CREATE ROLE esc_createdb NOLOGIN CREATEDB',
          'CREATE ROLE esc_replication NOLOGIN REPLICATION',
          'CREATE ROLE esc_bypassrls NOLOGIN BYPASSRLS',
          'CREATE ROLE esc_via_createdb NOLOGIN IN ROLE esc_createdb',
          'CREATE ROLE esc_mid_replication NOLOGIN IN ROLE esc_replication',
          'CREATE ROLE esc_via_replication NOLOGIN IN ROLE esc_mid_replication',
          ...predefinedOf(major).map((name) => `CREATE ROLE ${quoteIdent(`esc_${name}`)} NOLOGIN IN ROLE ${quoteIdent(name)}`),
          'CREATE ROLE esc_deep_files NOLOGIN IN ROLE esc_pg_read_server_files',
          'CREATE ROLE esc_monitor NOLOGIN IN ROLE pg_monitor',
          'CREATE ROLE esc_control_owner NOLOGIN',
          'CREATE ROLE esc_via_control NOLOGIN IN ROLE esc_control_owner',
        ].join(';\n'),
      );
      await cluster.query(`CREATE DATABASE ${CONTROL_DB} OWNER esc_control_owner`);
      await cluster.query(
        [
          `COMMENT ON DATABASE ${CONTROL_DB} IS ${quoteLiteral('Latchkey control database\nlatchkey:control-database=true')}`,
          // Safe: plain group roles, and a read-only statistics role.
          'CREATE ROLE esc_safe_parent NOLOGIN',
          'CREATE ROLE esc_safe NOLOGIN IN ROLE esc_safe_parent, pg_stat_scan_tables',
          'CREATE ROLE esc_late NOLOGIN',
        ].join(';\n'),
      );
      await cluster.query('CREATE TABLE public.t (x int); INSERT INTO public.t VALUES (1); GRANT SELECT ON public.t TO esc_safe_parent', undefined, APP);
      await cluster.query('CREATE SCHEMA access; CREATE TABLE access.audit_log (id int)', undefined, CONTROL_DB);
    }),
  );
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  // The figure the issue asks for: escalation attempts refused per major.
  console.log(`escalation attempts refused per PostgreSQL major: ${JSON.stringify(refusedByMajor)}`);
  await Promise.all([...clusters.values()].map((c) => c.stop()));
}, 180_000);

async function discoverRoles(conn: TargetConnectionParams): Promise<{ objects: DiscoveredObject[]; byName: Map<string, DiscoveredObject> }> {
  const objects: DiscoveredObject[] = [];
  await discoverInstance(conn, { kinds: KINDS, pageSize: 7 }, async (page) => {
    objects.push(...page);
  });
  return { objects, byName: new Map(objects.filter((o) => o.kind === 'role').map((o) => [o.name, o])) };
}

const personOf = (major: number, who: string) => ({ id: `${who}-${major}`, email: `${who}@example.com` });
const grantFor = (role: string, password: string, items: GrantTargetItem[]) => ({
  role,
  password,
  validUntil: new Date(Date.now() + 3_600_000),
  connectionLimit: 4,
  comment: 'escalation',
  items,
});

async function membershipsOf(cluster: PgCluster, role: string): Promise<string[]> {
  const rows = await cluster.query<{ rolname: string }>(
    'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1',
    [role],
  );
  return [...new Set(rows.map((r) => r.rolname))];
}

describe.each(PG_VERSIONS.map((v) => v.major))('PostgreSQL %i', (major) => {
  const cluster = () => clusters.get(major)!;
  const conn = () => cluster().connectionParams(APP);
  let profile: string;
  let personRole: string;
  let personPassword: string;

  beforeAll(async () => {
    const [version] = await cluster().query<{ v: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS v`);
    expect(version!.v).toBe(major);
    // A first grant makes the marker roles, a profile role and a personal login role: Latchkey's own.
    personRole = personalRoleName(personOf(major, 'ana'));
    personPassword = generatePassword();
    await applyGrant(conn(), grantFor(personRole, personPassword, [TABLE_ITEM, member('esc_safe')]));
    profile = profileRoleName(TABLE_ITEM);
    await cluster().query(
      `CREATE ROLE esc_via_profile NOLOGIN IN ROLE ${quoteIdent(profile)}; CREATE ROLE esc_via_person NOLOGIN IN ROLE ${quoteIdent(personRole)}`,
    );
  }, 180_000);

  it('discovery lists dangerous roles with the reason and no permission; safe ones stay requestable', async () => {
    const { byName } = await discoverRoles(conn());
    for (const [name, reason] of dangerousRoles(major)) {
      expect({ name, reason: byName.get(name)?.unrequestableReason }).toEqual({ name, reason: expect.stringMatching(reason) });
    }
    for (const name of ['esc_safe', 'esc_safe_parent', 'esc_late'])
      expect({ name, reason: byName.get(name)?.unrequestableReason }).toEqual({ name, reason: null });
    for (const name of ['latchkey_managed', 'latchkey_orphan_owner', profile, personRole]) {
      expect(byName.get(name)).toMatchObject({ managed: true, unrequestableReason: expect.stringMatching(/Latchkey's own roles/) });
    }
    // The connector itself reaches CREATEROLE; PostgreSQL's own roles are not listed at all.
    expect(byName.get(CONNECTOR)?.unrequestableReason).toMatch(/CREATEROLE/);
    expect([...byName.keys()].filter((n) => n.startsWith('pg_'))).toEqual([]);
  });

  it('refuses every escalation at grant time, leaving nothing behind, and a real login shows it', async () => {
    const attempts = [
      ...dangerousRoles(major).map(([name]) => name),
      // Named directly through the admin route: Latchkey's own roles and PostgreSQL's powerful ones.
      'latchkey_managed',
      'latchkey_orphan_owner',
      profile,
      personalRoleName(personOf(major, 'someone-else')),
      'pg_read_server_files',
      'pg_execute_server_program',
      'pg_monitor',
      'pg_stat_scan_tables',
    ];
    await applyGrant(conn(), grantFor(personalRoleName(personOf(major, 'someone-else')), generatePassword(), [member('esc_safe')]));
    let refused = 0;
    for (const role of attempts) {
      // The person already holds a grant; the refused attempt must not touch it (its password included).
      const error = await applyGrant(conn(), grantFor(personRole, generatePassword(), [member('esc_safe'), member(role)])).catch((e: unknown) => e);
      expect({ role, error }).toEqual({ role, error: expect.any(GrantError) });
      expect((error as GrantError).code).toBe('invalid_item');
      expect((error as GrantError).message).toContain(`Latchkey never hands out membership in ${quoteIdent(role)}`);
      refused += 1;
      // Someone with no login yet: nothing is created for them.
      const newcomer = personalRoleName(personOf(major, `newcomer-${refused}`));
      await expect(applyGrant(conn(), grantFor(newcomer, generatePassword(), [TABLE_ITEM, member(role)]))).rejects.toMatchObject({ code: 'invalid_item' });
      expect(await cluster().query('SELECT 1 FROM pg_roles WHERE rolname = $1', [newcomer])).toEqual([]);
      refused += 1;
    }
    refusedByMajor[major] = (refusedByMajor[major] ?? 0) + refused;

    // What the first grant gave (Latchkey's marker and the table's profile among it), nothing more.
    const held = ['esc_safe', 'latchkey_managed', profile].sort();
    expect(await membershipsOf(cluster(), personRole)).toEqual(held);
    const session: Client = (await connectTarget({ ...conn(), username: personRole, password: personPassword })).client;
    try {
      await session.query('SET ROLE esc_safe');
      expect((await session.query('SELECT x FROM public.t')).rows).toEqual([{ x: 1 }]);
      await session.query('RESET ROLE');
      // esc_safe reaches pg_stat_scan_tables on purpose: a safe role's own memberships come with it.
      const reached = [...held, 'esc_safe_parent', 'pg_stat_scan_tables'];
      for (const role of attempts.filter((r) => !reached.includes(r))) {
        const error = await session.query(`SET ROLE ${quoteIdent(role)}`).then(
          () => null,
          (e: { code?: string }) => e.code,
        );
        expect({ role, error }).toEqual({ role, error: '42501' });
        await session.query('RESET ROLE');
      }
      const { rows } = await session.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER') AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)`,
      );
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await session.end();
    }
  });

  it('re-checks at grant time: a role that became dangerous after discovery is refused', async () => {
    const { byName } = await discoverRoles(conn());
    expect(byName.get('esc_late')?.unrequestableReason).toBeNull();
    await cluster().query('GRANT esc_chain_a TO esc_late');
    try {
      const late = personalRoleName(personOf(major, 'late'));
      await expect(applyGrant(conn(), grantFor(late, generatePassword(), [member('esc_late')]))).rejects.toThrow(
        /"esc_late" is a member of "esc_super" \(through 3 other roles\), which is a superuser/,
      );
      expect(await cluster().query('SELECT 1 FROM pg_roles WHERE rolname = $1', [late])).toEqual([]);
      refusedByMajor[major] = (refusedByMajor[major] ?? 0) + 1;
    } finally {
      await cluster().query('REVOKE esc_chain_a FROM esc_late');
    }
  });

  it("never discovers, fixes or grants on Latchkey's control database", async () => {
    const { objects } = await discoverRoles(conn());
    expect(objects.filter((o) => o.name === CONTROL_DB || o.database === CONTROL_DB)).toEqual([]);
    expect(objects.some((o) => o.kind === 'database' && o.name === APP)).toBe(true);

    const connector = { ...conn(), username: CONNECTOR, password: CONNECTOR_PASSWORD };
    const report = await runPreflight(connector, { connectorId: 'local' });
    expect(report.connected).toBe(true);
    expect(report.checks.filter((c) => c.target === CONTROL_DB || JSON.stringify(c).includes(CONTROL_DB))).toEqual([]);
    expect(report.checks.some((c) => c.target === APP)).toBe(true);
    // ADMIN OPTION is never suggested on a role Latchkey does not hand out.
    const fixes = report.checks.map((c) => c.fix ?? '').join('\n');
    for (const [name] of dangerousRoles(major)) expect({ name, suggested: fixes.includes(quoteIdent(name)) }).toEqual({ name, suggested: false });
    if (major >= 16) expect(fixes).toContain(`GRANT "esc_safe" TO "${CONNECTOR}" WITH ADMIN OPTION`);

    const controlItem: GrantTargetItem = {
      resourceType: 'postgresql-table',
      database: CONTROL_DB,
      schema: 'access',
      table: 'audit_log',
      permission: 'READ_WRITE',
    };
    const who = personalRoleName(personOf(major, 'ctl'));
    await expect(applyGrant(conn(), grantFor(who, generatePassword(), [controlItem]))).rejects.toMatchObject({
      code: 'invalid_item',
      message: `Database "${CONTROL_DB}" is Latchkey's own control database: Latchkey never grants anything on it`,
    });
    expect(await cluster().query('SELECT 1 FROM pg_roles WHERE rolname = $1 OR rolname = $2', [who, profileRoleName(controlItem)])).toEqual([]);
    refusedByMajor[major] = (refusedByMajor[major] ?? 0) + 1;
  });
});
