import { DANGEROUS_PREDEFINED_ROLES, unrequestableReason } from './unrequestable-roles';

describe('unrequestableReason', () => {
  it('is null when nothing blocks the role', () => {
    expect(unrequestableReason('analyst', null)).toBeNull();
    expect(unrequestableReason('analyst', { blocked_by: undefined, blocked_as: undefined, blocked_depth: undefined })).toBeNull();
  });

  it('names the role itself, a direct membership, or how many roles lie between', () => {
    expect(unrequestableReason('ops', { blocked_by: 'ops', blocked_as: 'createrole', blocked_depth: 0 })).toBe('"ops" has CREATEROLE');
    expect(unrequestableReason('ops', { blocked_by: 'postgres', blocked_as: 'superuser', blocked_depth: 1 })).toBe(
      '"ops" is a member of "postgres" (directly), which is a superuser',
    );
    expect(unrequestableReason('ops', { blocked_by: 'root', blocked_as: 'bypassrls', blocked_depth: 2 })).toBe(
      '"ops" is a member of "root" (through 1 other role), which has BYPASSRLS',
    );
    expect(unrequestableReason('a "b"', { blocked_by: 'x', blocked_as: 'replication', blocked_depth: 4 })).toBe(
      '"a ""b""" is a member of "x" (through 3 other roles), which has REPLICATION',
    );
  });

  it('says what each dangerous predefined role can do', () => {
    for (const { name, power } of DANGEROUS_PREDEFINED_ROLES) {
      expect(unrequestableReason('r', { blocked_by: name, blocked_as: 'predefined', blocked_depth: 1 })).toBe(
        `"r" is a member of "${name}" (directly), which is PostgreSQL's predefined role that ${power}`,
      );
    }
    expect(unrequestableReason('lk_p_tb_ro_x', { blocked_by: 'lk_p_tb_ro_x', blocked_as: 'latchkey', blocked_depth: 0 })).toMatch(
      /^"lk_p_tb_ro_x" is one of Latchkey's own roles/,
    );
    expect(unrequestableReason('pg_monitor', { blocked_by: 'pg_monitor', blocked_as: 'postgres_own', blocked_depth: 0 })).toMatch(
      /predefined roles, which Latchkey never hands out/,
    );
  });

  it('covers the roles that read or write server files or run server programs', () => {
    expect(DANGEROUS_PREDEFINED_ROLES.map((r) => r.name)).toEqual(
      expect.arrayContaining(['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files']),
    );
  });
});
