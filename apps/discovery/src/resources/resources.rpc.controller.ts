import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { ResourcesService } from './resources.service';

/** Any discovery process answers: the inventory lives in the control database. */
@Controller()
export class ResourcesRpcController {
  constructor(private readonly resources: ResourcesService) {}

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

  @Rpc(Contracts.discoveryResourcesPutTags)
  putTags(@Payload() { id, tags, actor }: Received<'discoveryResourcesPutTags'>) {
    return this.resources.putTags(id, tags, actor);
  }
}
