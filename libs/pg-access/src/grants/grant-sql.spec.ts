import {
  membershipsToRevoke,
  personalRoleStatements,
  profileGrantStatements,
  revokeMembershipStatements,
  selfGrantStatement,
  validUntilLiteral,
  type ProfileGaps,
} from './grant-sql';
import type { GrantTargetItem } from './grant-types';
import { privilegePlan } from './privileges';
import { profileRoleName } from './role-names';

const noGaps: ProfileGaps = { database: null, schemas: [], relations: [], routines: [], defaults: [] };
const orders: GrantTargetItem = { resourceType: 'postgresql-table', database: 'appdb', schema: 'public', table: 'orders', permission: 'READ_ONLY' };

describe('profileGrantStatements', () => {
  it('grants nothing when nothing is missing', () => {
    expect(profileGrantStatements('p', noGaps)).toEqual([]);
  });

  it('batches objects that miss the same privileges, quoting every name', () => {
    const statements = profileGrantStatements('lk_p', {
      database: { name: 'app"db', missing: ['CONNECT'] },
      schemas: [
        { schema: 's;1', missing: ['USAGE'] },
        { schema: 'ü', missing: ['USAGE'] },
      ],
      relations: [
        { schema: 's;1', name: 'a"b', sequence: false, missing: ['SELECT', 'INSERT'] },
        { schema: 's;1', name: 'c', sequence: false, missing: ['SELECT', 'INSERT'] },
        { schema: 's;1', name: 'd', sequence: false, missing: ['INSERT'] },
        { schema: 's;1', name: 'c_id_seq', sequence: true, missing: ['USAGE'] },
      ],
      routines: [
        {
          schema: 's;1',
          name: 'f',
          argTypes: [
            ['pg_catalog', 'int4'],
            ['pg_catalog', '_text'],
          ],
        },
      ],
      defaults: [{ schema: 's;1', owner: 'app owner', objects: 'TABLES', missing: ['SELECT'] }],
    });
    expect(statements).toEqual([
      'GRANT CONNECT ON DATABASE "app""db" TO "lk_p"',
      'GRANT USAGE ON SCHEMA "s;1", "ü" TO "lk_p"',
      'GRANT SELECT, INSERT ON TABLE "s;1"."a""b", "s;1"."c" TO "lk_p"',
      'GRANT INSERT ON TABLE "s;1"."d" TO "lk_p"',
      'GRANT USAGE ON SEQUENCE "s;1"."c_id_seq" TO "lk_p"',
      'GRANT EXECUTE ON ROUTINE "s;1"."f"("pg_catalog"."int4", "pg_catalog"."_text") TO "lk_p"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "app owner" IN SCHEMA "s;1" GRANT SELECT ON TABLES TO "lk_p"',
    ]);
  });

  it('splits long object lists', () => {
    const relations = Array.from({ length: 450 }, (_, i) => ({ schema: 's', name: `t${i}`, sequence: false, missing: ['SELECT'] }));
    expect(profileGrantStatements('p', { ...noGaps, relations })).toHaveLength(3);
  });

  it('refuses a privilege keyword it does not know', () => {
    expect(() => profileGrantStatements('p', { ...noGaps, schemas: [{ schema: 's', missing: ['USAGE; DROP ROLE x'] }] })).toThrow('Unknown privilege');
  });
});

describe('privilegePlan', () => {
  it('follows DESIGN.md per permission and scope', () => {
    expect(privilegePlan(orders, 15)).toEqual({
      database: ['CONNECT'],
      schema: ['USAGE'],
      table: ['SELECT'],
      sequence: ['SELECT'],
      routine: [],
      futureObjects: false,
    });
    expect(privilegePlan({ ...orders, permission: 'READ_WRITE' }, 15)).toMatchObject({
      table: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
      sequence: ['SELECT', 'USAGE', 'UPDATE'],
    });
    const db = privilegePlan({ resourceType: 'postgresql-database', database: 'd', permission: 'ADMIN' }, 16);
    expect(db).toMatchObject({ database: ['CONNECT', 'CREATE', 'TEMPORARY'], schema: ['USAGE', 'CREATE'], routine: ['EXECUTE'], futureObjects: true });
    expect(db.table).not.toContain('MAINTAIN');
    expect(privilegePlan({ resourceType: 'postgresql-schema', database: 'd', schema: 's', permission: 'ADMIN' }, 17).table).toContain('MAINTAIN');
    expect(privilegePlan({ ...orders, permission: 'ADMIN' }, 17)).toMatchObject({
      database: ['CONNECT'],
      schema: ['USAGE'],
      routine: [],
      futureObjects: false,
    });
  });
});

describe('personalRoleStatements', () => {
  const change = {
    role: 'lk_bob_0123456789ab',
    verifier: 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2s=',
    validUntil: new Date('2030-01-02T03:04:05.678Z'),
    connectionLimit: 5,
    comment: `bob's "login"`,
    newMemberships: ['latchkey_managed', 'lk_p_tb_ro_x'],
  };

  it('creates the role with its verifier, expiry, limit, comment and memberships', () => {
    expect(personalRoleStatements({ ...change, exists: false })).toEqual([
      `CREATE ROLE "lk_bob_0123456789ab" LOGIN PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2s=' VALID UNTIL '2030-01-02T03:04:05.678Z' CONNECTION LIMIT 5`,
      `COMMENT ON ROLE "lk_bob_0123456789ab" IS 'bob''s "login"'`,
      'GRANT "latchkey_managed" TO "lk_bob_0123456789ab"',
      'GRANT "lk_p_tb_ro_x" TO "lk_bob_0123456789ab"',
    ]);
  });

  it('alters an existing role', () => {
    expect(personalRoleStatements({ ...change, exists: true, newMemberships: [] })[0]).toMatch(/^ALTER ROLE "lk_bob_0123456789ab" LOGIN PASSWORD /);
  });

  it('refuses a connection limit or date SQL cannot hold', () => {
    expect(() => personalRoleStatements({ ...change, exists: false, connectionLimit: 1.5 })).toThrow('connectionLimit');
    expect(() => personalRoleStatements({ ...change, exists: false, connectionLimit: -2 })).toThrow('connectionLimit');
    expect(() => validUntilLiteral(new Date('nope'))).toThrow('valid date');
    expect(() => validUntilLiteral(new Date(Date.UTC(12000, 0, 1)))).toThrow('outside');
  });
});

describe('memberships', () => {
  const rw = { ...orders, permission: 'READ_WRITE' as const };
  const member: GrantTargetItem = { resourceType: 'postgresql-role', database: 'appdb', role: 'Reporting', permission: 'MEMBER' };

  it('keeps what another grant of the person still uses', () => {
    expect(membershipsToRevoke([orders, rw, member], [orders])).toEqual([profileRoleName(rw), 'Reporting'].sort());
    expect(membershipsToRevoke([orders], [orders, member])).toEqual([]);
  });

  it('revokes each grantor from PostgreSQL 16 on', () => {
    const memberships = [
      { role: 'p', grantors: ['admin', 'postgres'] },
      { role: 'q', grantors: [] },
    ];
    expect(revokeMembershipStatements('u', memberships, 15)).toEqual(['REVOKE "p" FROM "u"', 'REVOKE "q" FROM "u"']);
    expect(revokeMembershipStatements('u', memberships, 16)).toEqual([
      'REVOKE "p" FROM "u" GRANTED BY "admin"',
      'REVOKE "p" FROM "u" GRANTED BY "postgres"',
      'REVOKE "q" FROM "u"',
    ]);
  });

  it('takes a role with INHERIT from PostgreSQL 16 on', () => {
    expect(selfGrantStatement('u', 'c', 15)).toBe('GRANT "u" TO "c"');
    expect(selfGrantStatement('u', 'c', 16)).toBe('GRANT "u" TO "c" WITH INHERIT TRUE');
  });
});
