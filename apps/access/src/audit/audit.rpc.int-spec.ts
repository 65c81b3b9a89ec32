import { Client } from 'pg';
import { Contracts, SYSTEM_ACTOR } from '@latchkey/contracts';
import { MessageBus, startService, type ServiceHandle } from '@latchkey/messaging';
import { PersistenceModule } from '@latchkey/persistence';
import { createScratchDatabase, type PrivateNats, type ScratchDatabase, startNatsServer, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { MIGRATIONS } from '../migrations';
import { AUDIT_ENTITIES, AuditModule } from './audit.module';

/**
 * The audit subjects as other services and the gateway use them: real NATS (a private server),
 * the audit module in a service host of its own, real PostgreSQL.
 */
const TOTAL = 1100;
let nats: PrivateNats;
let scratch: ScratchDatabase;
let sql: Client;
let access: ServiceHandle;
let bus: MessageBus;

beforeAll(async () => {
  nats = await startNatsServer();
  scratch = await createScratchDatabase('latchkey_access_audit_rpc');
  const url = scratch.url;
  access = await startService({
    service: 'access',
    version: '9.9.9',
    env: { NATS_URL: nats.url, LOG_LEVEL: 'silent', NATS_REQUEST_TIMEOUT_MS: 10_000 },
    imports: [PersistenceModule.forService({ url, schema: 'access', entities: AUDIT_ENTITIES, migrations: MIGRATIONS }), AuditModule],
  });
  bus = new MessageBus(nats.url, 'test', 10_000);
  await bus.connect();
  sql = new Client({ connectionString: url });
  await sql.connect();

  await bus.request(Contracts.accessAuditAppend, {
    action: 'integration.updated',
    actor: { type: 'user', id: 'alice', email: 'alice@example.com' },
    targetType: 'integration',
    targetId: 'i-1',
    targetName: 'orders',
    diff: { password: { before: 'hunter2', after: 'hunter3' }, port: { before: 5432, after: 6432 } },
    details: { token: 'lk_secret' },
    sourceId: 'outbox:1',
  });
  for (let i = 1; i < TOTAL; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, TOTAL - i) }, (_, k) =>
        bus.request(Contracts.accessAuditAppend, {
          action: 'request.granted',
          actor: SYSTEM_ACTOR,
          targetType: 'request',
          targetId: `r-${i + k}`,
          sourceId: `outbox:${i + k + 1}`,
        }),
      ),
    );
  }
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await sql?.end();
  await bus?.close();
  await access?.close();
  await nats?.stop();
  await scratch?.drop();
});

describe('access.audit.append', () => {
  it('records a re-sent sourceId once', async () => {
    const again = await bus.request(Contracts.accessAuditAppend, {
      action: 'integration.updated',
      actor: SYSTEM_ACTOR,
      targetType: 'integration',
      targetId: 'i-1',
      sourceId: 'outbox:1',
    });
    const { rows } = await sql.query("SELECT id FROM access.audit_log WHERE source_id = 'outbox:1'");
    expect(rows).toEqual([{ id: again.id }]);
    expect((await sql.query('SELECT count(*)::int AS n FROM access.audit_log')).rows[0].n).toBe(TOTAL);
  });

  it('stores what is sent over NATS with its secrets redacted', async () => {
    const { rows } = await sql.query<{ text: string }>("SELECT (diff::text || details::text) AS text FROM access.audit_log WHERE source_id = 'outbox:1'");
    expect(rows[0].text).not.toMatch(/hunter|lk_secret/);
  });
});

describe('access.audit.list', () => {
  it('answers pages newest first, with filters, that the contract accepts', async () => {
    const first = await bus.request(Contracts.accessAuditList, { pageSize: 500 });
    expect(first.items.map((e) => e.seq).slice(0, 2)).toEqual([TOTAL, TOTAL - 1]);
    const second = await bus.request(Contracts.accessAuditList, { pageSize: 500, pageToken: first.nextPageToken });
    const third = await bus.request(Contracts.accessAuditList, { pageSize: 500, pageToken: second.nextPageToken });
    expect(third.items.map((e) => e.seq).at(-1)).toBe(1);
    expect(third.nextPageToken).toBeUndefined();
    expect(new Set([...first.items, ...second.items, ...third.items].map((e) => e.seq)).size).toBe(TOTAL);

    const alice = await bus.request(Contracts.accessAuditList, { actorId: 'alice', targetType: 'integration' });
    expect(alice.items).toHaveLength(1);
    expect(alice.items[0]).toMatchObject({
      seq: 1,
      actor: { type: 'user', id: 'alice', email: 'alice@example.com' },
      diff: { password: { before: '[REDACTED]', after: '[REDACTED]' }, port: { before: 5432, after: 6432 } },
      details: { token: '[REDACTED]' },
      sourceId: 'outbox:1',
    });
  });

  it('refuses a page token it did not give out', async () => {
    await expect(bus.request(Contracts.accessAuditList, { pageToken: 'forged' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ field: 'pageToken' }] },
    });
  });
});

describe('access.audit.verify', () => {
  it('reports an intact chain, then names the entry edited in SQL', async () => {
    expect(await bus.request(Contracts.accessAuditVerify, {})).toEqual({ ok: true, checked: TOTAL, firstBroken: null });
    await sql.query(`UPDATE access.audit_log SET target_id = 'r-forged' WHERE seq = 700`);
    expect(await bus.request(Contracts.accessAuditVerify, {})).toMatchObject({
      ok: false,
      checked: 699,
      firstBroken: { seq: 700, reason: expect.stringContaining('changed after it was written') },
    });
  });
});
