import { type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { applyGrant } from './apply-grant';
import type { GrantTargetItem } from './grant-types';
import { revokeGrant } from './revoke-grant';
import { personalRoleName, profileRoleName } from './role-names';
import { generatePassword } from './scram';

const APP_DB = 'appdb';
const ORDERS: GrantTargetItem = { resourceType: 'postgresql-table', database: APP_DB, schema: 'app', table: 'orders', permission: 'READ_ONLY' };

let cluster: PgCluster;
let conn: TargetConnectionParams;

beforeAll(async () => {
  cluster = await startPgCluster({ hba: 'scram' });
  conn = cluster.connectionParams();
  await cluster.query(`CREATE DATABASE ${APP_DB}`);
  await cluster.query('CREATE SCHEMA app; CREATE TABLE app.orders (id serial, item text); CREATE TABLE app.invoices (id int);', undefined, APP_DB);
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.stop();
});

const hour = () => new Date(Date.now() + 3_600_000);

async function canRead(role: string, password: string): Promise<boolean> {
  const { client } = await connectTarget({ ...conn, dbname: APP_DB, username: role, password });
  try {
    await client.query('SELECT count(*) FROM app.orders');
    return true;
  } finally {
    await client.end();
  }
}

describe('concurrent grants', () => {
  it('16 people at once on one new table profile, from a cluster Latchkey has never seen: no error reaches the caller', async () => {
    const people = Array.from({ length: 16 }, (_, i) => ({
      role: personalRoleName({ id: `c-${i}`, email: `p${i}@example.com` }),
      password: generatePassword(),
    }));
    const results = await Promise.allSettled(
      people.map((p) => applyGrant(conn, { role: p.role, password: p.password, validUntil: hour(), connectionLimit: -1, comment: 'c', items: [ORDERS] })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const [members] = await cluster.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1`,
      [profileRoleName(ORDERS)],
    );
    expect(members!.n).toBe(16);
    for (const p of people) expect(await canRead(p.role, p.password)).toBe(true);

    const revocations = await Promise.allSettled(people.map((p) => revokeGrant(conn, { role: p.role, items: [ORDERS], keepItems: [] })));
    expect(revocations.filter((r) => r.status === 'rejected')).toEqual([]);
  });

  it('8 grants for the same person at once: one role, every membership, the last password works', async () => {
    const role = personalRoleName({ id: 'same-person', email: 'same@example.com' });
    const grants = Array.from({ length: 8 }, (_, i) => ({
      password: generatePassword(),
      item: {
        resourceType: 'postgresql-table',
        database: APP_DB,
        schema: 'app',
        table: i % 2 ? 'orders' : 'invoices',
        permission: (['READ_ONLY', 'READ_WRITE', 'ADMIN', 'READ_WRITE'] as const)[i % 4],
      } as GrantTargetItem,
    }));
    const results = await Promise.allSettled(
      grants.map((g) => applyGrant(conn, { role, password: g.password, validUntil: hour(), connectionLimit: -1, comment: 'c', items: [g.item] })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const memberships = await cluster.query<{ rolname: string }>(
      `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1`,
      [role],
    );
    expect(memberships.map((m) => m.rolname)).toEqual(['latchkey_managed', ...new Set(grants.map((g) => profileRoleName(g.item)))].sort());
    const working = await Promise.all(grants.map((g) => canRead(role, g.password).catch(() => false)));
    expect(working.filter(Boolean)).toHaveLength(1);
  });
});
