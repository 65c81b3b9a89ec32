import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { AuditService } from './audit.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class AuditRpcController {
  constructor(private readonly audit: AuditService) {}

  /** Other services append here, each entry with a `sourceId` (their outbox row) so retries record it once. */
  @Rpc(Contracts.accessAuditAppend)
  append(@Payload() entry: Req<'accessAuditAppend'>) {
    return this.audit.append(entry);
  }

  @Rpc(Contracts.accessAuditList)
  list(@Payload() query: Req<'accessAuditList'>) {
    return this.audit.list(query);
  }

  @Rpc(Contracts.accessAuditSince)
  since(@Payload() { afterSeq, limit }: Req<'accessAuditSince'>) {
    return this.audit.since(afterSeq, limit);
  }

  @Rpc(Contracts.accessAuditVerify)
  verify() {
    return this.audit.verify();
  }
}
