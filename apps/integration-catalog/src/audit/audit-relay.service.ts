import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import { LOGGER, MessageBus, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { AuditOutboxRepository } from './audit-outbox.repository';

const BATCH = 50;
const APPEND_TIMEOUT_MS = 5_000;
/** Catches entries written by other catalog replicas, and nudges lost to a crash. */
const IDLE_POLL_MS = 5_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 60_000;

/**
 * Sends the outbox to the audit log (`access.audit.append`) in the order it was written, one entry
 * at a time, deleting each once appended. The row id is the entry's `sourceId`, so an entry sent
 * again after a crash between "appended" and "deleted" is recorded once. While the access service
 * is down, entries wait and the relay backs off exponentially.
 */
@Injectable()
export class AuditRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private failures = 0;
  private stopped = false;
  /** A nudge arrived while draining: look again at once. */
  private again = false;

  constructor(
    private readonly outbox: AuditOutboxRepository,
    private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    this.nudge();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.draining;
  }

  /** Something was written: send it soon (unless backing off). */
  nudge(): void {
    if (this.stopped || this.failures > 0) return;
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
      const rows = await this.outbox.oldest(BATCH);
      for (const row of rows) {
        if (this.stopped) return;
        try {
          await this.bus.request(Contracts.accessAuditAppend, { ...row.entry, sourceId: row.id }, { timeoutMs: APPEND_TIMEOUT_MS });
        } catch (err) {
          this.failures += 1;
          await this.outbox.recordFailure(row.id, err instanceof Error ? err.message : String(err)).catch(() => undefined);
          next = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
          this.logger.warn({ err, outboxId: row.id, action: row.entry.action, retryInMs: next }, 'audit entry not appended yet; it waits in the outbox');
          return;
        }
        await this.outbox.remove(row.id);
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
