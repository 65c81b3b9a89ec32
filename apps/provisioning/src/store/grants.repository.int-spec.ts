import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createLogger, MessageBus } from '@latchkey/messaging';
import { AuditOutbox, createServiceDataSource, migrate } from '@latchkey/persistence';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { MIGRATIONS } from '../migrations';
import { GrantEntity, PersonalRoleEntity } from './grant.entity';
import { GrantsRepository, type NewGrant } from './grants.repository';

/**
 * The statements that serve several grants at once, on a real control database: grants made and
 * activated in the same turn, the other grants of several people read in one statement, and revocations that end in the same turn.
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

/** A new grant of `person` (its role `lk_<person>`) as the grants service makes it, ACTIVE and expired a second ago unless told. */
const newGrant = (person: string, fields: Partial<NewGrant> = {}): NewGrant => ({
  idempotencyKey: randomUUID(),
  integrationId,
  connectorId: 'local',
  identityId: person,
  identityEmail: `${person}@example.com`,
  roleName: `lk_${person}`,
  items: [ITEM],
  connectionLimit: -1,
  status: 'ACTIVE',
  expiresAt: new Date(Date.now() - 1_000),
  attempts: 0,
  passwordEnvelope: null,
  ...fields,
});

async function activeGrant(person: string, table = 'orders'): Promise<GrantEntity> {
  const { grant } = await grants.insertOnce(newGrant(person, { items: [{ ...ITEM, table }] }));
  return grant;
}

const ENVELOPE = { v: 1, alg: 'AES-256-GCM', kid: 'k1', iv: 'aXY=', tag: 'dGFn', data: 'ZGF0YQ==' } as unknown as NewGrant['passwordEnvelope'];

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

  it('inserts the grants of one turn together: each as insertOnce alone would, a key taken earlier in the turn answering the grant that took it', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const ida = newGrant('ida', { status: 'GRANTING', expiresAt, passwordEnvelope: ENVELOPE, connectionLimit: 3 });
    const jo = newGrant('jo', { status: 'GRANTING', expiresAt, items: [ITEM, { ...ITEM, table: 'invoices' }] });
    const again = { ...ida, identityEmail: 'someone-else@example.com' };
    const results = await Promise.all([ida, jo, again].map((g) => grants.insertOnce(g)));
    expect(results.map((r) => r.created)).toEqual([true, true, false]);
    expect(results[2]!.grant).toEqual(results[0]!.grant);
    for (const [k, g] of [ida, jo].entries()) {
      const { grant } = results[k]!;
      expect(grant).toMatchObject({ ...g, expiresAt, attempts: 0, grantedAt: null, endedAt: null });
      expect(grant.id).toMatch(/^[0-9a-f-]{36}$/);
      await expect(grants.findById(grant.id)).resolves.toEqual(grant);
    }
    const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM provisioning.grants WHERE idempotency_key = ANY($1)', [
      [ida.idempotencyKey, jo.idempotencyKey],
    ]);
    expect(rows).toEqual([{ n: '2' }]);
  });

  it("fails only the grant whose insert fails when the turn's statement fails", async () => {
    const broken = newGrant('kit', { items: undefined as unknown as NewGrant['items'] });
    const [lu, kit, mo] = await Promise.allSettled([newGrant('lu'), broken, newGrant('mo')].map((g) => grants.insertOnce(g)));
    expect(lu).toMatchObject({ status: 'fulfilled', value: { created: true, grant: { identityId: 'lu' } } });
    expect(kit).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('"items"') } });
    expect(mo).toMatchObject({ status: 'fulfilled', value: { created: true, grant: { identityId: 'mo' } } });
    const { rows } = await sql.query<{ identity_id: string }>(
      "SELECT identity_id FROM provisioning.grants WHERE identity_id IN ('lu', 'kit', 'mo') ORDER BY 1",
    );
    expect(rows).toEqual([{ identity_id: 'lu' }, { identity_id: 'mo' }]);
  });

  it('activates the grants of one turn together: each as activate alone would, a grant named twice activated once', async () => {
    const granting = (person: string) => grants.insertOnce(newGrant(person, { status: 'GRANTING', expiresAt: new Date(Date.now() + 3_600_000) }));
    const [nia, ox, pat] = (await Promise.all(['nia', 'ox', 'pat'].map(granting))).map((r) => r.grant);
    await sql.query("UPDATE provisioning.grants SET status = 'FAILED' WHERE id = $1", [pat!.id]);
    await sql.query(
      "INSERT INTO provisioning.personal_roles (integration_id, role_name, connector_id, identity_id, last_active_at, state, state_reason) VALUES ($1, 'lk_ox', 'local', 'ox', now() - interval '1 day', 'KEPT', 'could not drop')",
      [integrationId],
    );
    const grantedAt = new Date();
    const results = await Promise.all([nia!, ox!, nia!, pat!].map((g) => grants.activate(g, grantedAt)));
    expect(results.map((r) => r && { id: r.id, status: r.status, grantedAt: r.grantedAt, lastError: r.lastError })).toEqual([
      { id: nia!.id, status: 'ACTIVE', grantedAt, lastError: null },
      { id: ox!.id, status: 'ACTIVE', grantedAt, lastError: null },
      null,
      // Rolled back while the SQL ran: not activated.
      null,
    ]);
    const { rows } = await sql.query<{ status: string }>('SELECT status FROM provisioning.grants WHERE id = $1', [pat!.id]);
    expect(rows).toEqual([{ status: 'FAILED' }]);
    // Each person's role is marked in use now, whether or not its grant turned ACTIVE here.
    const roles = await sql.query<{ role_name: string; state: string; state_reason: string | null; fresh: boolean }>(
      "SELECT role_name, state, state_reason, last_active_at > now() - interval '1 minute' AS fresh FROM provisioning.personal_roles WHERE role_name = ANY($1) ORDER BY 1",
      [['lk_nia', 'lk_ox', 'lk_pat']],
    );
    expect(roles.rows).toEqual([
      { role_name: 'lk_nia', state: 'ACTIVE', state_reason: null, fresh: true },
      { role_name: 'lk_ox', state: 'ACTIVE', state_reason: null, fresh: true },
      { role_name: 'lk_pat', state: 'ACTIVE', state_reason: null, fresh: true },
    ]);
    // Once ACTIVE, activating again answers null.
    await expect(grants.activate(ox!, new Date())).resolves.toBeNull();
  });
});
