import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { actorOfCaller, Contracts, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { Caller } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { FlowsService } from './flows.service';
import { PeopleRepository } from './people.repository';
import { RequestableService } from './requestable.service';

const actorOf = (caller: Caller) => (caller ? actorOfCaller(caller) : SYSTEM_ACTOR);

@Controller()
export class FlowsRpcController {
  constructor(
    private readonly flows: FlowsService,
    private readonly people: PeopleRepository,
    private readonly requestable: RequestableService,
  ) {}

  /** For the catalog's warnings on integration owners who resolve to nobody. */
  @Rpc(Contracts.accessPeopleCount)
  async countPeople(@Payload() { references }: Received<'accessPeopleCount'>) {
    return { counts: await Promise.all(references.map((r) => this.people.countEach(r.attribute, r.values))) };
  }

  @Rpc(Contracts.accessMeRequestablePage)
  requestablePageFor(@Payload() req: Received<'accessMeRequestablePage'>) {
    return this.requestable.forCaller(req.caller, req.query);
  }

  @Rpc(Contracts.accessFlowsCreate)
  create(@Payload() req: Received<'accessFlowsCreate'>) {
    return this.flows.create(req.input, actorOf(req.caller));
  }

  @Rpc(Contracts.accessFlowsDryRun)
  dryRun(@Payload() req: Received<'accessFlowsDryRun'>) {
    return this.flows.dryRun(req.input);
  }

  @Rpc(Contracts.accessFlowsList)
  list(@Payload() req: Received<'accessFlowsList'>) {
    return this.flows.list(req);
  }

  @Rpc(Contracts.accessFlowsGet)
  get(@Payload() req: Received<'accessFlowsGet'>) {
    return this.flows.get(req.id);
  }

  @Rpc(Contracts.accessFlowsUpdate)
  update(@Payload() req: Received<'accessFlowsUpdate'>) {
    return this.flows.update(req.id, req.input, actorOf(req.caller));
  }

  @Rpc(Contracts.accessFlowsDelete)
  delete(@Payload() req: Received<'accessFlowsDelete'>) {
    return this.flows.delete(req.id, actorOf(req.caller));
  }
}
