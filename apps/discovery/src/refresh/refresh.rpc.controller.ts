import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { PayloadOf, ReceivedOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import { RefreshTriggers } from './refresh-triggers.service';

@Controller()
export class RefreshRpcController {
  constructor(private readonly triggers: RefreshTriggers) {}

  /** Served on this connector's own subject: `connector.<CONNECTOR_ID>.discovery.refresh`. */
  @Rpc(Contracts.discoveryRefreshRequest)
  refresh(@Payload() { integrationId, actor }: ReceivedOf<typeof Contracts.discoveryRefreshRequest>) {
    return this.triggers.request(integrationId, actor);
  }

  @OnEvent(Contracts.catalogIntegrationChanged)
  integrationChanged(@Payload() event: PayloadOf<typeof Contracts.catalogIntegrationChanged>) {
    return this.triggers.onIntegrationChanged(event);
  }
}
