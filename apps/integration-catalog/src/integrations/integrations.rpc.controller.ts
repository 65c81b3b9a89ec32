import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import { IntegrationsService } from './integrations.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class IntegrationsRpcController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Rpc(Contracts.catalogIntegrationsCreate)
  create(@Payload() { input, actor }: Req<'catalogIntegrationsCreate'>) {
    return this.integrations.create(input, actor);
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
  update(@Payload() { id, input, actor }: Req<'catalogIntegrationsUpdate'>) {
    return this.integrations.update(id, input, actor);
  }

  @Rpc(Contracts.catalogIntegrationsDelete)
  delete(@Payload() { id, actor }: Req<'catalogIntegrationsDelete'>) {
    return this.integrations.delete(id, actor);
  }

  @Rpc(Contracts.catalogIntegrationsTest)
  test(@Payload() { id, actor }: Req<'catalogIntegrationsTest'>) {
    return this.integrations.test(id, actor);
  }

  @Rpc(Contracts.catalogIntegrationsTarget)
  target(@Payload() { id }: Req<'catalogIntegrationsTarget'>) {
    return this.integrations.target(id);
  }

  @OnEvent(Contracts.discoveryRefreshStarted)
  refreshStarted(@Payload() { integrationId }: { integrationId: string }) {
    return this.integrations.onRefresh(integrationId, { phase: 'started' });
  }

  @OnEvent(Contracts.discoveryResourcesChanged)
  refreshSucceeded(@Payload() { integrationId }: { integrationId: string }) {
    return this.integrations.onRefresh(integrationId, { phase: 'succeeded' });
  }

  @OnEvent(Contracts.discoveryRefreshFailed)
  refreshFailed(@Payload() { integrationId, reason }: { integrationId: string; reason: string }) {
    return this.integrations.onRefresh(integrationId, { phase: 'failed', reason });
  }
}
