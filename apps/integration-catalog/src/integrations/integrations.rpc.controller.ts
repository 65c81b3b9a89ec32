import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { IntegrationsService } from './integrations.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class IntegrationsRpcController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Rpc(Contracts.catalogIntegrationsCreate)
  create(@Payload() { input }: Req<'catalogIntegrationsCreate'>) {
    return this.integrations.create(input);
  }

  @Rpc(Contracts.catalogIntegrationsList)
  list(@Payload() { pageSize, pageToken }: Req<'catalogIntegrationsList'>) {
    return this.integrations.list(pageSize, pageToken);
  }

  @Rpc(Contracts.catalogIntegrationsGet)
  get(@Payload() { id }: Req<'catalogIntegrationsGet'>) {
    return this.integrations.find(id);
  }

  @Rpc(Contracts.catalogIntegrationsUpdate)
  update(@Payload() { id, input }: Req<'catalogIntegrationsUpdate'>) {
    return this.integrations.update(id, input);
  }

  @Rpc(Contracts.catalogIntegrationsDelete)
  delete(@Payload() { id }: Req<'catalogIntegrationsDelete'>) {
    return this.integrations.delete(id);
  }

  @Rpc(Contracts.catalogIntegrationsTest)
  test(@Payload() { id }: Req<'catalogIntegrationsTest'>) {
    return this.integrations.test(id);
  }
}
