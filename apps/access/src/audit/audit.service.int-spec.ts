import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppException, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { AuditEntryInput } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import { createServiceDataSource, migrate } from '@latchkey/persistence';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { entryHash, GENESIS_HASH } from './audit-hash';
import { MIGRATIONS } from '../migrations';
import { AUDIT_ENTITIES } from './audit.module';
import { AuditRepository } from './audit.repository';
import { AuditService, VERIFY_BATCH_SIZE } from './audit.service';
import { AuditSequencer, LINK_BATCH } from './audit-sequencer';
import { transactionOn } from '../control-database/transactions.repository';

let scratch: ScratchDatabase;
let sql: Client;
let dataSource: DataSource;
let audit: AuditService;
let sequencer: AuditSequencer;
let repository: AuditRepository;
const logger = createLogger('access', 'silent');

const alice = { type: 'user' as const, id: randomUUID(), email: 'alice@example.com' };

const entry = (over: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  action: 'integration.updated',
  actor: alice,
  targetType: 'integration',
  targetId: randomUUID(),
  targetName: 'orders-db',
  diff: { port: { before: 5432, after: 6432 } },
  ...over,
});

async function resetLog(): Promise<void> {
  await sql.query('TRUNCATE access.audit_log');
  await sql.query('UPDATE access.audit_head SET seq = 0, hash = $1', [GENESIS_HASH]);
}

/** Appends `count` entries and links them into the chain (seq 1..count on an empty log). */
async function appendMany(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await audit.append(entry({ details: { i } }));
  await sequencer.link();
}

/** The log in chain order, then the entries not linked yet in the order they were appended: their places in the chain, null until linked. */
async function chainRows(): Promise<Array<{ id: string; seq: number | null; prev_hash: string | null; hash: string | null }>> {
  const { rows } = await sql.query('SELECT id, seq, prev_hash, hash FROM access.audit_log ORDER BY seq NULLS LAST, queued');
  return rows.map((r) => ({ ...r, seq: r.seq === null ? null : Number(r.seq) }));
}

beforeAll(async () => {
  scratch = await createScratchDatabase('latchkey_access_audit_int');
  const url = scratch.url;
  dataSource = createServiceDataSource({ url, schema: 'access', entities: AUDIT_ENTITIES, migrations: MIGRATIONS, poolSize: 20 });
  await migrate(dataSource, 'access');
  repository = new AuditRepository(dataSource);
  sequencer = new AuditSequencer(repository, logger);
  audit = new AuditService(repository, sequencer);
  sql = new Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await sequencer?.onModuleDestroy();
  await dataSource?.destroy();
  await scratch?.drop();
});

beforeEach(resetLog);

describe('AuditService.append', () => {
  it('links 50 concurrent appends into one unforked chain, seq 1..50', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => audit.append(entry({ details: { i } }))));
    expect(new Set(results.map((r) => r.id)).size).toBe(50);
    // A verification links whatever committed before it.
    expect(await audit.verify()).toEqual({ ok: true, checked: 50, firstBroken: null });
    const rows = await chainRows();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(rows[0].prev_hash).toBe(GENESIS_HASH);
    rows.slice(1).forEach((row, i) => expect(row.prev_hash).toBe(rows[i].hash));
    const head = await sql.query('SELECT seq, hash FROM access.audit_head');
    expect(head.rows[0]).toEqual({ seq: '50', hash: rows[49].hash });
  });

  it('appends while the head is locked (an append waits on no other), and links the entry once the lock is free', async () => {
    const holder = new Client({ connectionString: scratch.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT seq FROM access.audit_head WHERE id = 1 FOR UPDATE');
      const { id } = await audit.append(entry());
      expect(await chainRows()).toEqual([{ id, seq: null, prev_hash: null, hash: null }]);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    await sequencer.link();
    expect(await chainRows()).toEqual([{ id: expect.any(String), seq: 1, prev_hash: GENESIS_HASH, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('links an entry whose transaction commits after a run, in a later run', async () => {
    await transactionOn(dataSource, async (tx) => {
      await audit.append(entry({ action: 'user.created' }), tx);
      // Uncommitted: this run does not see it.
      await sequencer.link();
    });
    expect((await audit.list({ pageSize: 10 })).items.map((e) => [e.seq, e.action])).toEqual([[1, 'user.created']]);
  });

  it('keeps one chain when two sequencers (two replicas) link the same entries at once', async () => {
    const other = new AuditSequencer(new AuditRepository(dataSource), logger);
    const total = LINK_BATCH + 150;
    for (let from = 0; from < total; from += 50) {
      await Promise.all(Array.from({ length: Math.min(50, total - from) }, (_, i) => audit.append(entry({ details: { i: from + i } }))));
    }
    await Promise.all([sequencer.link(), other.link(), sequencer.link(), other.link()]);
    const rows = await chainRows();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    rows.slice(1).forEach((row, i) => expect(row.prev_hash).toBe(rows[i].hash));
    expect(await audit.verify()).toEqual({ ok: true, checked: total, firstBroken: null });
  });

  it('records a sourceId once, even when it is appended twice at the same time', async () => {
    const sourceId = `outbox:${randomUUID()}`;
    const first = await audit.append(entry({ sourceId }));
    const again = await audit.append(entry({ sourceId, targetName: 'something else' }));
    expect(again).toEqual(first);
    const racing = `outbox:${randomUUID()}`;
    const raced = await Promise.all([audit.append(entry({ sourceId: racing })), audit.append(entry({ sourceId: racing }))]);
    expect(raced[0]).toEqual(raced[1]);
    const { rows } = await sql.query('SELECT source_id, count(*)::int AS n FROM access.audit_log GROUP BY source_id ORDER BY source_id');
    expect(rows).toEqual(
      [
        { source_id: sourceId, n: 1 },
        { source_id: racing, n: 1 },
      ].sort((a, b) => a.source_id.localeCompare(b.source_id)),
    );
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 2 });
  });

  it('stores secrets in details and diff redacted, and the redacted entry still verifies', async () => {
    await audit.append(
      entry({
        diff: { password: { before: 'old-pass', after: 'new-pass' }, config: { before: { host: 'a' }, after: { host: 'b', sslKey: 'PEM' } } },
        details: { password: 'x', nested: [{ apiToken: 'tok' }], username: 'app' },
      }),
    );
    const { rows } = await sql.query<{ diff: unknown; details: unknown; raw: string }>(
      'SELECT diff, details, (diff::text || details::text) AS raw FROM access.audit_log',
    );
    expect(rows[0].details).toEqual({ password: '[REDACTED]', nested: [{ apiToken: '[REDACTED]' }], username: 'app' });
    expect(rows[0].diff).toEqual({
      password: { before: '[REDACTED]', after: '[REDACTED]' },
      config: { before: { host: 'a' }, after: { host: 'b', sslKey: '[REDACTED]' } },
    });
    for (const secret of ['old-pass', 'new-pass', "'x'", 'tok', 'PEM']) expect(rows[0].raw).not.toContain(secret);
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 1 });
  });

  it('appends in the caller’s transaction: a rollback leaves no entry and the chain intact', async () => {
    await audit.append(entry());
    await expect(
      transactionOn(dataSource, async (tx) => {
        await audit.append(entry({ action: 'user.created' }), tx);
        expect((await sql.query("SELECT 1 FROM access.audit_log WHERE action = 'user.created'")).rowCount).toBe(0);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect((await sql.query("SELECT 1 FROM access.audit_log WHERE action = 'user.created'")).rowCount).toBe(0);
    expect(await audit.verify()).toEqual({ ok: true, checked: 1, firstBroken: null });

    const committed = await transactionOn(dataSource, (tx) => audit.append(entry({ action: 'user.created' }), tx));
    // A transaction that has ended is not joined: the entry gets a transaction of its own.
    const ended = await transactionOn(dataSource, async (tx) => tx);
    const own = await audit.append(entry(), ended);
    expect(await audit.verify()).toEqual({ ok: true, checked: 3, firstBroken: null });
    expect((await chainRows()).slice(1).map((r) => [r.id, r.seq])).toEqual([
      [committed.id, 2],
      [own.id, 3],
    ]);
  });

  it('stores text PostgreSQL cannot hold (NUL, lone surrogates) replaced, and it verifies', async () => {
    await audit.append(entry({ targetName: 'a\u0000b', details: { note: 'x\uD800y', 'k\u0000': 1 } }));
    const { rows } = await sql.query('SELECT target_name, details FROM access.audit_log');
    expect(rows[0]).toEqual({ target_name: 'a\uFFFDb', details: { note: 'x\uFFFDy', 'k\uFFFD': 1 } });
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('refuses an entry that does not match the contract, naming the field', async () => {
    await expect(audit.append({ ...entry(), action: 'Not An Action' })).rejects.toThrow(AppException);
    await expect(audit.append({ ...entry(), action: 'Not An Action' })).rejects.toThrow(/action: must look like target.verb/);
  });
});

describe('AuditService.verify', () => {
  it('names the seq of an entry whose diff was edited in SQL', async () => {
    await appendMany(5);
    await sql.query(`UPDATE access.audit_log SET diff = '{"port": {"before": 5432, "after": 1}}' WHERE seq = 3`);
    const report = await audit.verify();
    expect(report).toMatchObject({ ok: false, checked: 2, firstBroken: { seq: 3, reason: expect.stringContaining('changed after it was written') } });
    expect(report.firstBroken?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names the next entry when an edited row was re-hashed to hide the edit', async () => {
    await appendMany(5);
    const { rows } = await sql.query('SELECT * FROM access.audit_log WHERE seq = 3');
    const r = rows[0];
    const forged = {
      seq: 3,
      at: r.at,
      action: 'integration.deleted',
      actor: r.actor,
      targetType: r.target_type,
      targetId: r.target_id,
      targetName: r.target_name,
      diff: r.diff,
      details: r.details,
      sourceId: r.source_id,
      prevHash: r.prev_hash,
    };
    await sql.query('UPDATE access.audit_log SET action = $1, hash = $2 WHERE seq = 3', [forged.action, entryHash(forged)]);
    expect(await audit.verify()).toMatchObject({ ok: false, checked: 3, firstBroken: { seq: 4, reason: expect.stringContaining('does not link to entry 3') } });
  });

  it('names the gap left by a deleted middle row', async () => {
    await appendMany(5);
    await sql.query('DELETE FROM access.audit_log WHERE seq = 3');
    expect(await audit.verify()).toEqual({ ok: false, checked: 2, firstBroken: { seq: 3, id: null, reason: expect.stringContaining('entry 3 is missing') } });
  });

  it('detects that the last row was deleted, through the head record', async () => {
    await appendMany(5);
    await sql.query('DELETE FROM access.audit_log WHERE seq = 5');
    expect(await audit.verify()).toEqual({
      ok: false,
      checked: 4,
      firstBroken: { seq: 5, id: null, reason: expect.stringContaining('newest entries were deleted') },
    });
  });

  it('detects that every row was deleted', async () => {
    await appendMany(2);
    await sql.query('DELETE FROM access.audit_log');
    expect(await audit.verify()).toMatchObject({
      ok: false,
      checked: 0,
      firstBroken: { seq: 1, reason: expect.stringContaining('entries 1 to 2 are missing') },
    });
  });

  it('reports an empty log as intact', async () => {
    expect(await audit.verify()).toEqual({ ok: true, checked: 0, firstBroken: null });
  });

  it('walks 100,000 entries in batches and finds an edit near the end', async () => {
    // Written the way append writes them, but in bulk: 100k single appends would take minutes.
    const total = 100_000;
    let prevHash = GENESIS_HASH;
    const start = Date.parse('2025-01-01T00:00:00.000Z');
    for (let from = 1; from <= total; from += 5000) {
      const rows = [];
      for (let seq = from; seq < from + 5000; seq++) {
        const e = {
          seq,
          at: new Date(start + seq),
          action: 'request.granted',
          actor: SYSTEM_ACTOR,
          targetType: 'request',
          targetId: `r-${seq}`,
          targetName: null,
          diff: null,
          details: { seq },
          sourceId: null,
          prevHash,
        };
        const hash = entryHash(e);
        rows.push({ ...e, hash });
        prevHash = hash;
      }
      await sql.query(
        `INSERT INTO access.audit_log (seq, at, action, actor, actor_id, target_type, target_id, details, prev_hash, hash)
         SELECT r.seq, r.at, r.action, r.actor, r.actor->>'id', r."targetType", r."targetId", r.details, r."prevHash", r.hash
         FROM jsonb_to_recordset($1::jsonb) AS r(seq bigint, at timestamptz, action text, actor jsonb, "targetType" text, "targetId" text, details jsonb, "prevHash" text, hash text)`,
        [JSON.stringify(rows)],
      );
    }
    await sql.query('UPDATE access.audit_head SET seq = $1, hash = $2', [total, prevHash]);
    const { id } = await audit.append(entry());
    await sequencer.link();
    expect((await sql.query('SELECT seq FROM access.audit_log WHERE id = $1', [id])).rows[0].seq).toBe(String(total + 1));

    const began = Date.now();
    expect(await audit.verify()).toEqual({ ok: true, checked: total + 1, firstBroken: null });
    const ms = Date.now() - began;
    expect(ms).toBeLessThan(30_000);

    await sql.query(`UPDATE access.audit_log SET details = '{"seq": 0}' WHERE seq = $1`, [total - 7]);
    expect(await audit.verify()).toMatchObject({ ok: false, checked: total - 8, firstBroken: { seq: total - 7 } });
    expect(VERIFY_BATCH_SIZE).toBeLessThan(total / 10);
  }, 300_000);
});

describe('AuditService.list', () => {
  it('filters, returns newest first, and pages by seq', async () => {
    const target = randomUUID();
    await audit.append(entry({ action: 'request.created', targetType: 'request', targetId: target }));
    await audit.append(entry({ action: 'request.approved', targetType: 'request', targetId: target, actor: { type: 'user', id: 'bob' } }));
    await audit.append(entry({ action: 'integration.created' }));
    await audit.append(entry({ action: 'request.granted', targetType: 'request', targetId: target, actor: SYSTEM_ACTOR }));

    const all = await audit.list({ pageSize: 50, targetId: target });
    expect(all.items.map((e) => e.action)).toEqual(['request.granted', 'request.approved', 'request.created']);
    expect(all.nextPageToken).toBeUndefined();
    expect(all.items[0]).toMatchObject({
      seq: 4,
      actor: SYSTEM_ACTOR,
      targetType: 'request',
      at: expect.stringMatching(/Z$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const first = await audit.list({ pageSize: 2 });
    expect(first.items.map((e) => e.seq)).toEqual([4, 3]);
    const second = await audit.list({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.items.map((e) => e.seq)).toEqual([2, 1]);
    expect(second.nextPageToken).toBeUndefined();

    expect((await audit.list({ pageSize: 50, actorId: 'bob' })).items.map((e) => e.action)).toEqual(['request.approved']);
    expect((await audit.list({ pageSize: 50, action: 'integration.created' })).items).toHaveLength(1);
    expect((await audit.list({ pageSize: 50, targetType: 'integration' })).items).toHaveLength(1);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await audit.list({ pageSize: 50, from: future })).items).toHaveLength(0);
    expect((await audit.list({ pageSize: 50, to: future })).items).toHaveLength(4);
    await expect(audit.list({ pageSize: 50, pageToken: 'nope' })).rejects.toThrow(/pageToken/);
    await expect(audit.list({ pageSize: 50, from: future, to: new Date().toISOString() })).rejects.toThrow(/from: must not be after to/);
  });
});
