import {
  adminOptionFix,
  createRolesFix,
  databaseGrantDetail,
  databaseGrantFix,
  MAX_FIX_STATEMENTS,
  terminateBackendsFix,
  type SchemaGap,
} from './preflight-fixes';

const user = 'lk "connector"';

describe('preflight fixes', () => {
  it('quote every identifier', () => {
    expect(createRolesFix(user)).toBe('ALTER ROLE "lk ""connector""" CREATEROLE;');
    expect(terminateBackendsFix(user)).toBe('GRANT "pg_signal_backend" TO "lk ""connector""";');
    expect(adminOptionFix(user, ['a;b'])).toBe('GRANT "a;b" TO "lk ""connector""" WITH ADMIN OPTION;');
  });

  it('grant on a database only what is missing', () => {
    const gaps: SchemaGap[] = [
      { schema: 'we;ird "s"', lacksUsage: true, tables: 2, sequences: 1 },
      { schema: 'public', lacksUsage: false, tables: 1, sequences: 0 },
    ];
    expect(databaseGrantFix(user, 'my db', false, gaps).split('\n')).toEqual([
      'GRANT CONNECT ON DATABASE "my db" TO "lk ""connector""" WITH GRANT OPTION;',
      '-- Run while connected to this database:',
      'GRANT ALL ON SCHEMA "we;ird ""s""" TO "lk ""connector""" WITH GRANT OPTION;',
      'GRANT ALL ON ALL TABLES IN SCHEMA "we;ird ""s""" TO "lk ""connector""" WITH GRANT OPTION;',
      'GRANT ALL ON ALL SEQUENCES IN SCHEMA "we;ird ""s""" TO "lk ""connector""" WITH GRANT OPTION;',
      'GRANT ALL ON ALL TABLES IN SCHEMA "public" TO "lk ""connector""" WITH GRANT OPTION;',
    ]);
    expect(databaseGrantFix(user, 'my db', true, [])).toBe('');
  });

  it('keep a fix bounded, counting what was left out', () => {
    const gaps = Array.from({ length: 30 }, (_, i): SchemaGap => ({ schema: `s${i}`, lacksUsage: true, tables: 1, sequences: 0 }));
    const lines = databaseGrantFix(user, 'd', false, gaps).split('\n');
    const statements = lines.filter((l) => !l.startsWith('--'));
    expect(statements.length).toBeLessThanOrEqual(MAX_FIX_STATEMENTS);
    expect(statements).toHaveLength(19); // CONNECT + 9 schemas of 2 statements
    expect(lines.at(-1)).toBe('-- and 21 more schemas');

    const roles = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const fix = adminOptionFix(user, roles, 250).split('\n');
    expect(fix).toHaveLength(21);
    expect(fix.at(-1)).toBe('-- and 230 more roles');
  });

  it('describe what cannot be granted', () => {
    expect(databaseGrantDetail(true, [])).toBe('Can grant CONNECT, and privileges on every schema, table and sequence.');
    expect(databaseGrantDetail(false, [{ schema: 's', lacksUsage: true, tables: 3, sequences: 1 }])).toBe(
      'Cannot grant everything here: cannot grant CONNECT (it needs to own the database, be a superuser, or hold CONNECT WITH GRANT OPTION); ' +
        'lacks the grant option on 1 schema (USAGE), 3 tables (SELECT), 1 sequence (USAGE).',
    );
  });
});
