import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, ConnectorHeartbeat } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import { ConnectorsService } from './connectors.service';

@Controller()
export class ConnectorsRpcController {
  constructor(private readonly connectors: ConnectorsService) {}

  @OnEvent(Contracts.connectorHeartbeat)
  heartbeat(@Payload() beat: ConnectorHeartbeat) {
    return this.connectors.recordHeartbeat(beat);
  }

  @Rpc(Contracts.catalogConnectorsList)
  async list() {
    return { items: await this.connectors.list() };
  }
}
