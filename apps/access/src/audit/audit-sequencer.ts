import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CoalescedRun, LOGGER, Periodic } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import type { AuditEntryEntity } from './audit-entry.entity';
import { entryHash } from './audit-hash';
import { AuditRepository } from './audit.repository';
import type { ChainEnd, ChainLink } from './audit.repository';

/** Entries linked per transaction. */
export const LINK_BATCH = 500;
/** How long after an append the sequencer runs: the appending transaction has usually committed by then, and entries that come together are linked together. */
export const LINK_DELAY_MS = 100;
/** How often the sequencer looks for entries nobody linked (their transaction committed after the run its append asked for; another replica's). */
export const LINK_SWEEP_MS = 1000;

/**
 * The entries' places in the chain, from the head on, in the order given: each one's seq follows
 * the previous, its prevHash is the previous hash, and its hash covers it as stored.
 */
export function chainLinks(head: ChainEnd, entries: readonly AuditEntryEntity[]): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = head;
  for (const e of entries) {
    const seq = prev.seq + 1;
    const hash = entryHash({ ...e, seq, prevHash: prev.hash });
    links.push({ id: e.id, seq, prevHash: prev.hash, hash });
    prev = { seq, hash };
  }
  return links;
}

/**
 * Links committed audit entries into the hash chain, after their transactions, many per run (as a
 * transparency log's sequencer does): an append is one insert in the caller's transaction, and the
 * head's lock is taken by the sequencer alone, instead of by every transaction that audits, until
 * it commits. Runs shortly after an append, every second for stragglers, and before every read of
 * the chain (list, since, verify), so a reader sees every entry committed before it asked.
 */
@Injectable()
export class AuditSequencer implements OnModuleInit, OnModuleDestroy {
  private readonly linking = new CoalescedRun(async () => {
    while ((await this.repository.link(LINK_BATCH, chainLinks)) === LINK_BATCH) {
      // a full batch: more may wait
    }
  });
  private readonly sweep: Periodic;
  private soon?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly repository: AuditRepository,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    this.sweep = new Periodic('linking audit entries', () => this.linkWaiting(), LINK_SWEEP_MS, logger);
  }

  onModuleInit(): void {
    this.sweep.start();
  }

  /** Links what has committed before the service stops; what has not is linked by the next run of any replica. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.soon);
    await this.sweep.stop();
    await this.linkWaiting().catch((err: unknown) => this.failed(err));
  }

  /** An entry was appended: link it shortly (one run for the appends that come meanwhile). */
  appended(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.link().catch((err: unknown) => this.failed(err));
    }, LINK_DELAY_MS);
    this.soon.unref();
  }

  /** Links every entry committed before the call; a call during a run makes it go round once more. */
  link(): Promise<void> {
    return this.linking.run();
  }

  /** As `link`, without taking the head's lock when no committed entry waits (a reader's case). */
  async linkWaiting(): Promise<void> {
    if (this.linking.busy || (await this.repository.hasUnlinked())) await this.link();
  }

  private failed(err: unknown): void {
    // The entries stay committed and unlinked: the next run links them.
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit entries not linked yet; retried');
  }
}
