import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { PayloadOf, ReceivedOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import { RotationSchedule } from './rotation-schedule.service';

@Controller()
export class RotationRpcController {
  constructor(private readonly schedule: RotationSchedule) {}

  /** Served on this connector's own subject: `connector.<CONNECTOR_ID>.rotation.run`. */
  @Rpc(Contracts.rotationRun)
  run(@Payload() { integrationId, actor }: ReceivedOf<typeof Contracts.rotationRun>) {
    return this.schedule.run(integrationId, 'manual', actor);
  }

  @Rpc(Contracts.rotationPlan)
  async plan(@Payload() { integrationId }: ReceivedOf<typeof Contracts.rotationPlan>) {
    return { nextDueAt: await this.schedule.plan(integrationId) };
  }

  @OnEvent(Contracts.catalogIntegrationChanged)
  integrationChanged(@Payload() event: PayloadOf<typeof Contracts.catalogIntegrationChanged>) {
    return this.schedule.onIntegrationChanged(event);
  }
}
