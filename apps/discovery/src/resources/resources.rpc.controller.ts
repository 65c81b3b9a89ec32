import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { LOGGER, MessageBus, Rpc } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { ResourcesService } from './resources.service';

/** Any discovery process answers: the inventory lives in the control database. */
@Controller()
export class ResourcesRpcController {
  constructor(
    private readonly resources: ResourcesService,
    private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  @Rpc(Contracts.discoveryResourcesList)
  list(@Payload() query: Received<'discoveryResourcesList'>) {
    return this.resources.list(query);
  }

  @Rpc(Contracts.discoveryResourcesSelect)
  select(@Payload() query: Received<'discoveryResourcesSelect'>) {
    return this.resources.select(query);
  }

  @Rpc(Contracts.discoveryResourcesGet)
  get(@Payload() { id }: Received<'discoveryResourcesGet'>) {
    return this.resources.get(id);
  }

  /** Announced before the answer, so that what keeps a resource for a moment (the access service) reads it afresh. */
  @Rpc(Contracts.discoveryResourcesPutTags)
  async putTags(@Payload() { id, tags, actor }: Received<'discoveryResourcesPutTags'>) {
    const resource = await this.resources.putTags(id, tags, actor);
    await this.bus
      .publish(Contracts.discoveryResourceTagsChanged, { id, integrationId: resource.integrationId })
      .catch((err: unknown) => this.logger.warn({ err, resourceId: id }, 'tags change not announced'));
    return resource;
  }
}
