import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { SecretVersionsService } from './secret-versions.service';

/** What the rotation workers ask of the catalog. */
@Controller()
export class SecretVersionsRpcController {
  constructor(private readonly versions: SecretVersionsService) {}

  @Rpc(Contracts.catalogRotationGet)
  get(@Payload() { id }: Received<'catalogRotationGet'>) {
    return this.versions.subject(id);
  }

  @Rpc(Contracts.catalogRotationStage)
  stage(@Payload() { id, runId, envelope }: Received<'catalogRotationStage'>) {
    return this.versions.stage(id, runId, envelope);
  }

  @Rpc(Contracts.catalogRotationRecord)
  record(@Payload() record: Received<'catalogRotationRecord'>) {
    return this.versions.record(record);
  }

  @Rpc(Contracts.catalogRotationPlanned)
  planned(@Payload() { id, nextDueAt }: Received<'catalogRotationPlanned'>) {
    return this.versions.planned(id, nextDueAt);
  }
}
