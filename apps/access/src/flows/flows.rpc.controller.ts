import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { actorOfCaller, Contracts, expandRequestablePage, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { Caller, ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { FlowsService } from './flows.service';
import { PeopleDirectorySql } from './people.directory';
import { RequestableService } from './requestable.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;
const actorOf = (caller: Caller) => (caller ? actorOfCaller(caller) : SYSTEM_ACTOR);

@Controller()
export class FlowsRpcController {
  constructor(
    private readonly flows: FlowsService,
    private readonly people: PeopleDirectorySql,
    private readonly requestable: RequestableService,
  ) {}

  /** For the catalog's warnings on integration owners who resolve to nobody. */
  @Rpc(Contracts.accessPeopleCount)
  async countPeople(@Payload() { references }: Req<'accessPeopleCount'>) {
    return { counts: await Promise.all(references.map((r) => this.people.countEach(r.attribute, r.values))) };
  }

  @Rpc(Contracts.accessMeRequestablePage)
  requestablePageFor(@Payload() req: Req<'accessMeRequestablePage'>) {
    return this.requestable.forCaller(req.caller, req.query);
  }

  /** The first form, for gateways of the previous version. */
  @Rpc(Contracts.accessMeRequestable)
  async requestableFor(@Payload() req: Req<'accessMeRequestable'>) {
    return expandRequestablePage(await this.requestable.forCaller(req.caller, req.query));
  }

  @Rpc(Contracts.accessFlowsCreate)
  create(@Payload() req: Req<'accessFlowsCreate'>) {
    return this.flows.create(req.input, actorOf(req.caller));
  }

  @Rpc(Contracts.accessFlowsDryRun)
  dryRun(@Payload() req: Req<'accessFlowsDryRun'>) {
    return this.flows.dryRun(req.input);
  }

  @Rpc(Contracts.accessFlowsList)
  list(@Payload() req: Req<'accessFlowsList'>) {
    return this.flows.list(req);
  }

  @Rpc(Contracts.accessFlowsGet)
  get(@Payload() req: Req<'accessFlowsGet'>) {
    return this.flows.get(req.id);
  }

  @Rpc(Contracts.accessFlowsUpdate)
  update(@Payload() req: Req<'accessFlowsUpdate'>) {
    return this.flows.update(req.id, req.input, actorOf(req.caller));
  }

  @Rpc(Contracts.accessFlowsDelete)
  delete(@Payload() req: Req<'accessFlowsDelete'>) {
    return this.flows.delete(req.id, actorOf(req.caller));
  }
}
