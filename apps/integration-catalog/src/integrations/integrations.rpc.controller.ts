import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { IntegrationsService } from './integrations.service';

@Controller()
export class IntegrationsRpcController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Rpc(Contracts.catalogIntegrationsCreate)
  create(@Payload() { input, actor }: Received<'catalogIntegrationsCreate'>) {
    return this.integrations.create(input, actor);
  }

  @Rpc(Contracts.catalogIntegrationsList)
  list(@Payload() { pageSize, pageToken }: Received<'catalogIntegrationsList'>) {
    return this.integrations.list(pageSize, pageToken);
  }

  @Rpc(Contracts.catalogIntegrationsGet)
  get(@Payload() { id }: Received<'catalogIntegrationsGet'>) {
    return this.integrations.find(id);
  }

  @Rpc(Contracts.catalogIntegrationsUpdate)
  update(@Payload() { id, input, actor }: Received<'catalogIntegrationsUpdate'>) {
    return this.integrations.update(id, input, actor);
  }

  @Rpc(Contracts.catalogIntegrationsDelete)
  delete(@Payload() { id, actor }: Received<'catalogIntegrationsDelete'>) {
    return this.integrations.delete(id, actor);
  }

  @Rpc(Contracts.catalogIntegrationsTest)
  test(@Payload() { id, actor }: Received<'catalogIntegrationsTest'>) {
    return this.integrations.test(id, actor);
  }

  @Rpc(Contracts.catalogIntegrationsTarget)
  target(@Payload() { id }: Received<'catalogIntegrationsTarget'>) {
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
