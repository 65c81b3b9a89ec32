import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createServiceDataSource, migrate } from '@latchkey/persistence';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { MIGRATIONS } from '../migrations';
import { NotificationsRepository } from './notifications.repository';

/**
 * The statements that record a page of the audit log at once, on a real control database: each
 * kind of change in one statement, ending as the same changes made one after another would.
 */
let scratch: ScratchDatabase;
let sql: Client;
let dataSource: DataSource;
let repository: NotificationsRepository;

beforeAll(async () => {
  scratch = await createScratchDatabase('latchkey_notifications_repository_int');
  dataSource = createServiceDataSource({ url: scratch.url, schema: 'notifications', entities: [], migrations: MIGRATIONS, poolSize: 2 });
  await migrate(dataSource, 'notifications');
  repository = new NotificationsRepository(dataSource);
  sql = new Client({ connectionString: scratch.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await dataSource?.destroy();
  await scratch?.drop();
});

const event = (id: string, requestId: string | null = randomUUID()) => ({
  id,
  type: 'access_request.granted',
  occurred_at: '2026-12-03T10:00:00.000Z',
  request_id: requestId,
  integration_id: randomUUID(),
  flow_id: null,
  payload: { type: 'access_request.granted', timestamp: '2026-12-03T10:00:00.000Z', data: { requestId, note: 'it\'s "quoted"' } },
});

describe('NotificationsRepository, a page at once', () => {
  it('records new events in one statement, and answers only those it recorded now', async () => {
    const before = event(`evt_${randomUUID()}`);
    await repository.transaction((m) => repository.insertEvent(m, before));
    const [a, b] = [event(`evt_${randomUUID()}`), event(`evt_${randomUUID()}`, null)];
    const recorded = await repository.transaction((m) => repository.insertEvents(m, [a, before, b, a]));
    expect([...recorded].sort()).toEqual([a.id, b.id].sort());
    const { rows } = await sql.query(
      'SELECT id, type, occurred_at, request_id, integration_id, flow_id, payload FROM notifications.events WHERE id = ANY($1) ORDER BY id',
      [[a.id, b.id]],
    );
    expect(rows).toEqual([a, b].sort((x, y) => (x.id < y.id ? -1 : 1)).map((e) => ({ ...e, occurred_at: new Date(e.occurred_at) })));
    await expect(repository.transaction((m) => repository.insertEvents(m, []))).resolves.toEqual(new Set());
  });

  it('watches expiries as watches made one after another would: first grant time, last expiry, an ended watch left alone', async () => {
    const [granted, extended, ended, fresh] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await sql.query(
      `INSERT INTO notifications.expiry_watch (request_id, granted_at, expires_at, ended) VALUES
         ($1, '2026-12-03T09:00:00Z', '2026-12-03T10:00:00Z', false), ($2, '2026-12-03T09:00:00Z', '2026-12-03T10:00:00Z', true)`,
      [extended, ended],
    );
    await repository.transaction(async (m) => {
      await repository.watchExpiries(m, [
        { requestId: granted, grantedAt: '2026-12-03T11:00:00.000Z', expiresAt: '2026-12-03T12:00:00.000Z' },
        { requestId: extended, grantedAt: '2026-12-03T11:00:00.000Z', expiresAt: '2026-12-03T13:00:00.000Z' },
        { requestId: ended, grantedAt: '2026-12-03T11:00:00.000Z', expiresAt: '2026-12-03T13:00:00.000Z' },
        // Granted, then extended, in the same page.
        { requestId: granted, grantedAt: '2026-12-03T11:30:00.000Z', expiresAt: '2026-12-03T14:00:00.000Z' },
      ]);
      await repository.watchExpiries(m, []);
      await repository.endWatches(m, [fresh]);
    });
    const { rows } = await sql.query<{ request_id: string; granted_at: Date; expires_at: Date; ended: boolean }>(
      'SELECT request_id, granted_at, expires_at, ended FROM notifications.expiry_watch WHERE request_id = ANY($1)',
      [[granted, extended, ended, fresh]],
    );
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get(granted)).toMatchObject({ granted_at: new Date('2026-12-03T11:00:00Z'), expires_at: new Date('2026-12-03T14:00:00Z'), ended: false });
    expect(byId.get(extended)).toMatchObject({ granted_at: new Date('2026-12-03T09:00:00Z'), expires_at: new Date('2026-12-03T13:00:00Z'), ended: false });
    expect(byId.get(ended)).toMatchObject({ expires_at: new Date('2026-12-03T10:00:00Z'), ended: true });
    expect(byId.has(fresh)).toBe(false);

    await repository.transaction((m) => repository.endWatches(m, [granted, extended]));
    const after = await sql.query<{ ended: boolean }>('SELECT ended FROM notifications.expiry_watch WHERE request_id = ANY($1)', [[granted, extended]]);
    expect(after.rows).toEqual([{ ended: true }, { ended: true }]);
  });

  it('ends the pending watches of decided requests in one statement', async () => {
    const [decided, other, waiting] = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of [decided, other, waiting]) {
      await repository.transaction((m) =>
        repository.watchPending(m, {
          requestId: id,
          createdAt: new Date().toISOString(),
          reminderIntervalMs: 60_000,
          reminderMax: 2,
          tierDueAt: [],
          nextAt: new Date(),
        }),
      );
    }
    await repository.transaction((m) => repository.endPendings(m, [decided, other]));
    await repository.transaction((m) => repository.endPendings(m, []));
    const { rows } = await sql.query<{ request_id: string; ended: boolean; next_at: Date | null }>(
      'SELECT request_id, ended, next_at FROM notifications.pending_watch WHERE request_id = ANY($1)',
      [[decided, other, waiting]],
    );
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get(decided)).toMatchObject({ ended: true, next_at: null });
    expect(byId.get(other)).toMatchObject({ ended: true, next_at: null });
    expect(byId.get(waiting)).toMatchObject({ ended: false, next_at: expect.any(Date) });
  });
});
