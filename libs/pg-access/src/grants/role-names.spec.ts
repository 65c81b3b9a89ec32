import { GrantError } from './grant-error';
import type { GrantTargetItem } from './grant-types';
import { assertValidItem, personalRoleName, profileComment, profileRoleName } from './role-names';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const table = (over: Partial<GrantTargetItem> = {}): GrantTargetItem => ({
  resourceType: 'postgresql-table',
  database: 'appdb',
  schema: 'public',
  table: 'orders',
  permission: 'READ_ONLY',
  ...over,
});

describe('personalRoleName', () => {
  it('is readable, stable and lowercase ASCII', () => {
    const name = personalRoleName({ id: 'u-1', email: 'Alice.Smith+ops@example.com' });
    expect(name).toMatch(/^lk_alice_smith_ops_[0-9a-f]{12}$/);
    expect(personalRoleName({ id: 'u-1', email: 'Alice.Smith+ops@example.com' })).toBe(name);
  });

  it('tells apart people with the same local part', () => {
    const a = personalRoleName({ id: 'id-a', email: 'bob@one.example' });
    const b = personalRoleName({ id: 'id-b', email: 'bob@two.example' });
    expect(a).not.toBe(b);
    expect(a.slice(0, 7)).toBe(b.slice(0, 7));
  });

  it('depends on the identity id, not on the domain', () => {
    expect(personalRoleName({ id: 'x', email: 'bob@one.example' })).toBe(personalRoleName({ id: 'x', email: 'bob@two.example' }));
  });

  it('stays within 63 bytes for long unicode emails and drops accents', () => {
    const name = personalRoleName({ id: 'u-2', email: `${'Zoë-Ångström-日本語-'.repeat(10)}@example.com` });
    expect(bytes(name)).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^lk_zoe_angstrom_[a-z0-9_]*[a-z0-9]_[0-9a-f]{12}$/);
  });

  it('falls back to a placeholder when nothing readable is left', () => {
    expect(personalRoleName({ id: 'u-3', email: '日本語@example.com' })).toMatch(/^lk_user_[0-9a-f]{12}$/);
    expect(personalRoleName({ id: 'u-4', email: `x"; DROP ROLE victim; --@example.com` })).toMatch(/^lk_x_drop_role_victim_[0-9a-f]{12}$/);
  });
});

describe('profileRoleName', () => {
  it('names the type, permission and resource, within 63 bytes', () => {
    expect(profileRoleName(table())).toMatch(/^lk_p_tb_ro_orders_[0-9a-f]{12}$/);
    expect(profileRoleName({ resourceType: 'postgresql-schema', database: 'd', schema: 'Sales', permission: 'READ_WRITE' })).toMatch(
      /^lk_p_sc_rw_sales_[0-9a-f]{12}$/,
    );
    expect(profileRoleName({ resourceType: 'postgresql-database', database: 'App DB', permission: 'ADMIN' })).toMatch(/^lk_p_db_ad_app_db_[0-9a-f]{12}$/);
    const long = profileRoleName(table({ schema: 'é'.repeat(31), table: `${'ü'.repeat(31)}x` }));
    expect(bytes(long)).toBeLessThanOrEqual(63);
  });

  it('differs whenever the exact path or permission differs', () => {
    const names = new Set([
      profileRoleName(table()),
      profileRoleName(table({ table: 'Orders' })),
      profileRoleName(table({ schema: 'sales' })),
      profileRoleName(table({ database: 'other' })),
      profileRoleName(table({ permission: 'READ_WRITE' })),
      // Same readable fragment and length, different bytes.
      profileRoleName(table({ table: 'orders;' })),
      profileRoleName(table({ schema: 'pub"lic' })),
    ]);
    expect(names.size).toBe(7);
  });

  it('has no profile for role membership', () => {
    expect(() => profileRoleName({ resourceType: 'postgresql-role', database: 'd', role: 'r', permission: 'MEMBER' })).toThrow(GrantError);
  });
});

describe('profileComment', () => {
  it('holds the exact path as JSON', () => {
    const item = table({ schema: `we"ird'; schéma`, table: 't 1' });
    expect(JSON.parse(profileComment(item))).toEqual({
      latchkey: 'profile',
      resourceType: 'postgresql-table',
      database: 'appdb',
      schema: `we"ird'; schéma`,
      table: 't 1',
      permission: 'READ_ONLY',
    });
  });
});

describe('assertValidItem', () => {
  it.each([
    [{ resourceType: 'postgresql-table', database: 'd', schema: 's', permission: 'READ_ONLY' }, 'needs a table'],
    [{ resourceType: 'postgresql-database', database: 'd', schema: 's', permission: 'READ_ONLY' }, 'has no schema'],
    [{ resourceType: 'postgresql-role', database: 'd', permission: 'MEMBER' }, 'needs a role'],
    [{ resourceType: 'postgresql-role', database: 'd', role: 'r', permission: 'ADMIN' }, 'ADMIN is not a permission of postgresql-role'],
    [{ resourceType: 'postgresql-schema', database: 'd', schema: 's', permission: 'MEMBER' }, 'MEMBER is not a permission'],
  ] as Array<[GrantTargetItem, string]>)('refuses %j', (item, message) => {
    expect(() => assertValidItem(item)).toThrow(message);
  });
});
