import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Contracts } from '@latchkey/contracts';
import type { AuditEntryInput } from '@latchkey/contracts';
import { LOGGER, MessageBus, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';

/** An audit entry as a service writes it; its outbox row id becomes its `sourceId`. */
export type OutboxEntry = Omit<AuditEntryInput, 'sourceId'>;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const BATCH = 50;
const APPEND_TIMEOUT_MS = 5_000;
/** Catches entries written by other replicas, and nudges lost to a crash. */
const IDLE_POLL_MS = 5_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 60_000;

/** The statements a service's migration runs to create its outbox (`<schema>.audit_outbox`). */
export function auditOutboxDdl(schema: string): string[] {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
  return [
    `CREATE TABLE ${schema}.audit_outbox (
       id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
       -- An AuditEntryInput without sourceId (the row id is the source id); never a secret.
       entry jsonb NOT NULL,
       created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
       attempts integer NOT NULL DEFAULT 0,
       last_error text
     )`,
    `CREATE INDEX audit_outbox_created_idx ON ${schema}.audit_outbox (created_at, id)`,
  ];
}

export const AUDIT_OUTBOX_SCHEMA = Symbol('AUDIT_OUTBOX_SCHEMA');

/**
 * A service's way into the audit log (kept by the access service): entries are written to its own
 * outbox table in the same transaction as the change they record, then a relay appends them to
 * the log (`access.audit.append`) in the order they were written, one at a time, deleting each
 * once appended. The row id is the entry's `sourceId`, so an entry sent again after a crash
 * between "appended" and "deleted" is recorded once; while the access service is down, entries
 * wait and the relay backs off exponentially.
 */
@Injectable()
export class AuditOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sql: { insert: string; oldest: string; remove: string; failure: string };
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private failures = 0;
  private started = false;
  private stopped = false;
  /** A nudge arrived while draining: look again at once. */
  private again = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(AUDIT_OUTBOX_SCHEMA) schema: string,
  ) {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
    const table = `${schema}.audit_outbox`;
    this.sql = {
      insert: 'INSERT INTO ' + table + ' (entry) VALUES ($1)',
      oldest: 'SELECT id, entry FROM ' + table + ' ORDER BY created_at, id LIMIT $1',
      remove: 'DELETE FROM ' + table + ' WHERE id = $1',
      failure: 'UPDATE ' + table + ' SET attempts = attempts + 1, last_error = $2 WHERE id = $1',
    };
  }

  /** Adds an entry inside the caller's transaction: it commits or rolls back with the change. */
  async add(manager: EntityManager, entry: OutboxEntry): Promise<void> {
    await manager.query(this.sql.insert, [JSON.stringify(entry)]);
  }

  /** A change and its audit entries in one transaction; the relay sends them on once committed. */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.dataSource.transaction(work);
    this.nudge();
    return result;
  }

  /** The relay runs in a started service only (entries written before wait for it). */
  onApplicationBootstrap() {
    this.started = true;
    this.nudge();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.draining;
  }

  /** Something was written: send it soon (unless backing off). */
  nudge(): void {
    if (!this.started || this.stopped || this.failures > 0) return;
    if (this.draining) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    // Its own correlation id: a drain sends entries of many requests, not of the one that nudged it.
    this.timer = setTimeout(() => {
      this.draining = withCorrelation(undefined, () => this.drain()).finally(() => (this.draining = undefined));
    }, ms);
  }

  private async drain(): Promise<void> {
    let next = IDLE_POLL_MS;
    this.again = false;
    try {
      const rows: Array<{ id: string; entry: OutboxEntry }> = await this.dataSource.query(this.sql.oldest, [BATCH]);
      for (const row of rows) {
        if (this.stopped) return;
        try {
          await this.bus.request(Contracts.accessAuditAppend, { ...row.entry, sourceId: row.id }, { timeoutMs: APPEND_TIMEOUT_MS });
        } catch (err) {
          this.failures += 1;
          const message = err instanceof Error ? err.message : String(err);
          await this.dataSource.query(this.sql.failure, [row.id, message.slice(0, 2000)]).catch(() => undefined);
          next = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
          this.logger.warn({ err, outboxId: row.id, action: row.entry.action, retryInMs: next }, 'audit entry not appended yet; it waits in the outbox');
          return;
        }
        await this.dataSource.query(this.sql.remove, [row.id]);
        this.failures = 0;
      }
      if (rows.length === BATCH || this.again) next = 0;
    } catch (err) {
      this.logger.warn({ err }, 'audit outbox not read');
    } finally {
      if (!this.stopped) this.schedule(next);
    }
  }
}

/** The service's audit outbox on its own schema (create the table with auditOutboxDdl in a migration). */
@Module({})
export class AuditOutboxModule {
  static forService(schema: string): DynamicModule {
    return {
      module: AuditOutboxModule,
      providers: [{ provide: AUDIT_OUTBOX_SCHEMA, useValue: schema }, AuditOutbox],
      exports: [AuditOutbox],
    };
  }
}
