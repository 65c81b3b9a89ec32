import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { ResourcesService } from './resources.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

/** Any discovery process answers: the inventory lives in the control database. */
@Controller()
export class ResourcesRpcController {
  constructor(private readonly resources: ResourcesService) {}

  @Rpc(Contracts.discoveryResourcesList)
  list(@Payload() query: Req<'discoveryResourcesList'>) {
    return this.resources.list(query);
  }

  @Rpc(Contracts.discoveryResourcesSelect)
  select(@Payload() query: Req<'discoveryResourcesSelect'>) {
    return this.resources.select(query);
  }

  @Rpc(Contracts.discoveryResourcesGet)
  get(@Payload() { id }: Req<'discoveryResourcesGet'>) {
    return this.resources.get(id);
  }

  @Rpc(Contracts.discoveryResourcesPutTags)
  putTags(@Payload() { id, tags, actor }: Req<'discoveryResourcesPutTags'>) {
    return this.resources.putTags(id, tags, actor);
  }
}
