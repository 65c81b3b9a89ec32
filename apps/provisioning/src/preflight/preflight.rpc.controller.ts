import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { PreflightService } from './preflight.service';

@Controller()
export class PreflightRpcController {
  constructor(private readonly preflight: PreflightService) {}

  /** Served on this connector's own subject: `connector.<CONNECTOR_ID>.integration.test`. */
  @Rpc(Contracts.connectorIntegrationTest)
  test(@Payload() { target }: ReceivedOf<typeof Contracts.connectorIntegrationTest>) {
    return this.preflight.run(target);
  }
}
