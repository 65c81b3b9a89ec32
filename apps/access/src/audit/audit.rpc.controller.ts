import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Metric, Rpc, ServiceMetrics } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { AuditService } from './audit.service';

@Controller()
export class AuditRpcController {
  private readonly chainBroken;
  private readonly verifications;

  constructor(
    private readonly audit: AuditService,
    metrics: ServiceMetrics,
  ) {
    this.chainBroken = metrics.gauge(Metric.auditChainBroken);
    this.verifications = metrics.counter(Metric.auditVerifications);
  }

  /** Other services append here, each entry with a `sourceId` (their outbox row) so retries record it once. */
  @Rpc(Contracts.accessAuditAppend)
  append(@Payload() entry: Received<'accessAuditAppend'>) {
    return this.audit.append(entry);
  }

  @Rpc(Contracts.accessAuditList)
  list(@Payload() query: Received<'accessAuditList'>) {
    return this.audit.list(query);
  }

  @Rpc(Contracts.accessAuditSince)
  since(@Payload() { afterSeq, limit }: Received<'accessAuditSince'>) {
    return this.audit.since(afterSeq, limit);
  }

  /** Also the audit chain's status in the metrics: notifications verifies on its schedule, people through the API. */
  @Rpc(Contracts.accessAuditVerify)
  async verify() {
    const report = await this.audit.verify();
    this.chainBroken.set(report.ok ? 0 : 1);
    this.verifications.inc({ result: report.ok ? 'intact' : 'broken' });
    return report;
  }
}
