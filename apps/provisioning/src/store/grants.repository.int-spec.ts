import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createLogger, MessageBus } from '@latchkey/messaging';
import { AuditOutbox, createServiceDataSource, migrate } from '@latchkey/persistence';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { MIGRATIONS } from '../migrations';
import { GrantEntity, PersonalRoleEntity } from './grant.entity';
import { GrantsRepository } from './grants.repository';

/**
 * The revocation's statements that serve several grants at once, on a real control database: the
 * other grants of several people read in one statement, and revocations that end in the same turn.
 */
let scratch: ScratchDatabase;
let sql: Client;
let dataSource: DataSource;
let grants: GrantsRepository;
const integrationId = randomUUID();
const ITEM = { resourceType: 'postgresql-table', database: 'shop', schema: 'public', table: 'orders', permission: 'READ_ONLY' } as const;

beforeAll(async () => {
  scratch = await createScratchDatabase('latchkey_provisioning_grants_int');
  dataSource = createServiceDataSource({
    url: scratch.url,
    schema: 'provisioning',
    entities: [GrantEntity, PersonalRoleEntity],
    migrations: MIGRATIONS,
    poolSize: 3,
  });
  await migrate(dataSource, 'provisioning');
  // The outbox is not used by these statements; it is built as the service builds it, never connected.
  const outbox = new AuditOutbox(
    dataSource,
    new MessageBus('nats://127.0.0.1:4222', 'grants-int', 1_000),
    createLogger('provisioning', 'silent'),
    'provisioning',
  );
  grants = new GrantsRepository(dataSource, outbox);
  sql = new Client({ connectionString: scratch.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await dataSource?.destroy();
  await scratch?.drop();
});

/** An ACTIVE grant of `person` (its role `lk_<person>`), expired a second ago. */
async function activeGrant(person: string, table = 'orders'): Promise<GrantEntity> {
  const { grant } = await grants.insertOnce({
    idempotencyKey: randomUUID(),
    integrationId,
    connectorId: 'local',
    identityId: person,
    identityEmail: `${person}@example.com`,
    roleName: `lk_${person}`,
    items: [{ ...ITEM, table }],
    connectionLimit: -1,
    status: 'ACTIVE',
    expiresAt: new Date(Date.now() - 1_000),
    attempts: 0,
    passwordEnvelope: null,
  });
  return grant;
}

describe('GrantsRepository', () => {
  it("reads the other grants of several people in one statement, each pair's answer in its place", async () => {
    const ada1 = await activeGrant('ada');
    const ada2 = await activeGrant('ada', 'invoices');
    const bo = await activeGrant('bo');
    await expect(grants.heldItemsOfEach(integrationId, [bo, ada1, ada2])).resolves.toEqual([[], [{ ...ITEM, table: 'invoices' }], [ITEM]]);
    await expect(grants.heldItems(integrationId, 'lk_ada', ada1.id)).resolves.toEqual([{ ...ITEM, table: 'invoices' }]);
  });

  it('claims the due grants of one turn together: each as claimExpired alone would, a grant named twice claimed once', async () => {
    const [fay1, fay2, gil] = await Promise.all([activeGrant('fay'), activeGrant('fay', 'invoices'), activeGrant('gil')]);
    const later = await activeGrant('hu');
    await sql.query("UPDATE provisioning.grants SET expires_at = now() + interval '1 hour' WHERE id = $1", [later.id]);
    const now = new Date();
    const claims = await Promise.all([fay1, gil, fay1, later, fay2].map((g) => grants.claimExpired(g.id, now)));
    expect(claims.map((c) => c && { id: c.grant.id, status: c.grant.status, endReason: c.grant.endReason, heldItems: c.heldItems })).toEqual([
      // Claimed in one statement, fay's two grants read each other as they were before it: still holding.
      { id: fay1.id, status: 'REVOKING', endReason: 'EXPIRED', heldItems: [{ ...ITEM, table: 'invoices' }] },
      { id: gil.id, status: 'REVOKING', endReason: 'EXPIRED', heldItems: [] },
      null,
      null,
      { id: fay2.id, status: 'REVOKING', endReason: 'EXPIRED', heldItems: [ITEM] },
    ]);
    // Read again now (as the revocation does under the target's lock), neither holds access any more.
    await expect(grants.heldItemsOfEach(integrationId, [fay1, fay2])).resolves.toEqual([[], []]);
    const { rows } = await sql.query<{ status: string }>('SELECT status FROM provisioning.grants WHERE id = $1', [later.id]);
    expect(rows).toEqual([{ status: 'ACTIVE' }]);
  });

  it('ends the revocations of one turn together: each as endRevocation alone would, a grant named twice ending once', async () => {
    const [cy, di, ed] = await Promise.all([activeGrant('cy'), activeGrant('di'), activeGrant('ed')]);
    await sql.query("UPDATE provisioning.personal_roles SET state = 'DROPPED', last_active_at = now() - interval '1 day' WHERE role_name = 'lk_cy'");
    for (const g of [cy, di]) expect(await grants.claimExpired(g.id, new Date())).not.toBeNull();
    const endedAt = new Date();
    // cy twice (the job and the sweeper at once), di once, ed never claimed (still ACTIVE: not a revocation's to end).
    const results = await Promise.all([cy, di, cy, ed].map((g) => grants.endRevocation(g, endedAt)));
    expect(results.map((r) => r && { id: r.id, status: r.status, endedAt: r.endedAt })).toEqual([
      { id: cy.id, status: 'EXPIRED', endedAt },
      { id: di.id, status: 'EXPIRED', endedAt },
      null,
      null,
    ]);
    const { rows } = await sql.query<{ id: string; status: string }>('SELECT id, status FROM provisioning.grants WHERE id = ANY($1) ORDER BY identity_id', [
      [cy.id, di.id, ed.id],
    ]);
    expect(rows).toEqual([
      { id: cy.id, status: 'EXPIRED' },
      { id: di.id, status: 'EXPIRED' },
      { id: ed.id, status: 'ACTIVE' },
    ]);
    // Each person's role is marked in use now, whether or not its grant ended here.
    const roles = await sql.query<{ role_name: string; state: string; fresh: boolean }>(
      "SELECT role_name, state, last_active_at > now() - interval '1 minute' AS fresh FROM provisioning.personal_roles WHERE role_name = ANY($1) ORDER BY 1",
      [['lk_cy', 'lk_di', 'lk_ed']],
    );
    expect(roles.rows).toEqual([
      { role_name: 'lk_cy', state: 'ACTIVE', fresh: true },
      { role_name: 'lk_di', state: 'ACTIVE', fresh: true },
      { role_name: 'lk_ed', state: 'ACTIVE', fresh: true },
    ]);
    // Once ended, ending again answers null.
    await expect(grants.endRevocation(di, new Date())).resolves.toBeNull();
  });
});
