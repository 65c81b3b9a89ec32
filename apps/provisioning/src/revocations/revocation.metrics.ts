import { Inject, Injectable } from '@nestjs/common';
import { GrantError } from '@latchkey/pg-access';
import { Metric, SERVICE_INFO, ServiceMetrics } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { GrantsRepository } from '../store/grants.repository';

/** Reads of the control database made for one scrape serve all its gauges. */
const REUSE_MS = 1_000;

/** A revocation error that means sessions of the role could not be ended (no right to signal them, or they outlived the deadline). */
export const isTerminationFailure = (err: unknown): boolean =>
  err instanceof GrantError && (err.code === 'sessions_survive' || (err.code === 'missing_privilege' && err.privilege === 'pg_signal_backend'));

/** Provisioning's metrics: revocations as they run, and this connector's grants read at scrape time. */
@Injectable()
export class RevocationMetrics {
  private readonly attempts;
  private readonly failures;
  private readonly lateness;
  private readonly terminated;
  private readonly terminationFailures;
  private live?: { at: number; counts: ReturnType<GrantsRepository['liveCounts']> };

  constructor(metrics: ServiceMetrics, grants: GrantsRepository, @Inject(SERVICE_INFO) info: ServiceInfo) {
    this.attempts = metrics.counter(Metric.revocationAttempts);
    this.failures = metrics.counter(Metric.revocationFailures);
    this.lateness = metrics.histogram(Metric.revocationLatenessSeconds);
    this.terminated = metrics.counter(Metric.sessionsTerminated);
    this.terminationFailures = metrics.counter(Metric.sessionTerminationFailures);
    const counts = () => {
      if (!this.live || Date.now() - this.live.at > REUSE_MS) {
        const read = grants.liveCounts(info.connectorId!);
        read.catch(() => (this.live = undefined));
        this.live = { at: Date.now(), counts: read };
      }
      return this.live.counts;
    };
    metrics.gauge(Metric.grantsActive, async () => [{ value: (await counts()).active }]);
    metrics.gauge(Metric.revocationsStuck, async () => [{ value: (await counts()).stuck }]);
    metrics.gauge(Metric.revocationsOverdue, async () => [{ value: (await counts()).overdue }]);
  }

  attempted(): void {
    this.attempts.inc();
  }

  /** Access taken back: how late after expiry (expiries only: a person's revocation has no deadline), and how many sessions ended. */
  succeeded(ended: { status: string; expiresAt: Date; endedAt: Date | null }, sessionsTerminated: number): void {
    if (ended.status === 'EXPIRED') this.lateness.observe(Math.max(0, ((ended.endedAt ?? new Date()).getTime() - ended.expiresAt.getTime()) / 1000));
    if (sessionsTerminated > 0) this.terminated.inc(sessionsTerminated);
  }

  failed(err: unknown): void {
    this.failures.inc();
    if (isTerminationFailure(err)) this.terminationFailures.inc();
  }
}
