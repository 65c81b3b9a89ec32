import { Injectable } from '@nestjs/common';
import { RequestStates } from '@latchkey/contracts';
import type { AccessRequestStatus } from '@latchkey/contracts';
import { Metric, ServiceMetrics } from '@latchkey/messaging';
import type { AccessRequestEntity } from './access-request.entity';
import { PENDING_AGES, RequestStore } from './requests.ports';

/** Reads of the control database made for one scrape serve all its gauges. */
const REUSE_MS = 1_000;

type Timed = Pick<AccessRequestEntity, 'createdAt' | 'approvalMode'>;
const approvalOf = (r: Pick<AccessRequestEntity, 'approvalMode'>) => (r.approvalMode === 'AUTOMATIC' ? 'automatic' : 'manual');
const secondsBetween = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);

/** The access service's metrics: what its requests went through, and their live state read at scrape time. */
@Injectable()
export class RequestMetrics {
  private readonly createdTotal;
  private readonly approvalSeconds;
  private readonly grantSeconds;
  private readonly endedTotal;
  private readonly neverViewedTotal;
  private live?: { at: number; counts: ReturnType<RequestStore['liveCounts']> };

  constructor(
    metrics: ServiceMetrics,
    private readonly requests: RequestStore,
  ) {
    this.createdTotal = metrics.counter(Metric.requestsCreated);
    this.approvalSeconds = metrics.histogram(Metric.requestApprovalSeconds);
    this.grantSeconds = metrics.histogram(Metric.requestGrantSeconds);
    this.endedTotal = metrics.counter(Metric.requestsEnded);
    this.neverViewedTotal = metrics.counter(Metric.credentialsNeverViewed);
    metrics.gauge(Metric.requestsPending, async () => {
      const { pending } = await this.liveCounts();
      return PENDING_AGES.map((age) => ({ labels: { age }, value: pending[age] }));
    });
    metrics.gauge(Metric.credentialsUnviewed, async () => [{ value: (await this.liveCounts()).unviewed }]);
  }

  created(r: Timed): void {
    this.createdTotal.inc({ approval: approvalOf(r) });
  }

  /** The last needed approval of a request that waited for approvers. */
  approved(r: Pick<AccessRequestEntity, 'createdAt' | 'decidedAt'>): void {
    if (r.decidedAt) this.approvalSeconds.observe(secondsBetween(r.createdAt, r.decidedAt));
  }

  granted(r: Timed, grantedAt: Date): void {
    this.grantSeconds.observe({ approval: approvalOf(r) }, secondsBetween(r.createdAt, grantedAt));
  }

  /** A request reached an end; `unviewed`: it had credentials nobody ever read. */
  moved(status: AccessRequestStatus, unviewed = false): void {
    if (!RequestStates.ENDED.includes(status)) return;
    this.endedTotal.inc({ status });
    if (unviewed) this.neverViewedTotal.inc();
  }

  private liveCounts() {
    if (!this.live || Date.now() - this.live.at > REUSE_MS) {
      const counts = this.requests.liveCounts();
      counts.catch(() => (this.live = undefined));
      this.live = { at: Date.now(), counts };
    }
    return this.live.counts;
  }
}
