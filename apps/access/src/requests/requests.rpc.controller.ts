import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { PayloadOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { GrantLifecycle } from './grant-lifecycle.service';
import { RequestsService } from './requests.service';

type GrantEvent = PayloadOf<typeof Contracts.provisioningGrantEnded>;

@Controller()
export class RequestsRpcController {
  constructor(
    private readonly requests: RequestsService,
    private readonly lifecycle: GrantLifecycle,
  ) {}

  @Rpc(Contracts.accessRequestsCreate)
  create(@Payload() req: Received<'accessRequestsCreate'>) {
    return this.requests.create(req.caller, req.input);
  }

  @Rpc(Contracts.accessRequestsList)
  list(@Payload() req: Received<'accessRequestsList'>) {
    return this.requests.list(req.caller, req.query);
  }

  @Rpc(Contracts.accessRequestsGet)
  get(@Payload() req: Received<'accessRequestsGet'>) {
    return this.requests.get(req.caller, req.id);
  }

  @Rpc(Contracts.accessRequestsGetMany)
  async getMany(@Payload() req: Received<'accessRequestsGetMany'>) {
    return { items: await this.requests.getMany(req.caller, req.ids) };
  }

  @Rpc(Contracts.accessRequestsApprove)
  approve(@Payload() req: Received<'accessRequestsApprove'>) {
    return this.requests.approve(req.caller, req.id, req.reason || undefined);
  }

  @Rpc(Contracts.accessRequestsReject)
  reject(@Payload() req: Received<'accessRequestsReject'>) {
    return this.requests.reject(req.caller, req.id, req.reason || undefined);
  }

  @Rpc(Contracts.accessRequestsRevoke)
  revoke(@Payload() req: Received<'accessRequestsRevoke'>) {
    return this.requests.revoke(req.caller, req.id, req.reason || undefined);
  }

  @Rpc(Contracts.accessRequestsExtend)
  extend(@Payload() req: Received<'accessRequestsExtend'>) {
    return this.requests.extend(req.caller, req.id, req.minutes);
  }

  @Rpc(Contracts.accessRequestsAccessDetails)
  accessDetails(@Payload() req: Received<'accessRequestsAccessDetails'>) {
    return this.requests.accessDetails(req.caller, req.id);
  }

  @Rpc(Contracts.accessRequestsResetCredentials)
  resetCredentials(@Payload() req: Received<'accessRequestsResetCredentials'>) {
    return this.requests.resetCredentials(req.caller, req.id);
  }

  // Provisioning's events move requests at once; the sweeper catches any that NATS dropped.
  @OnEvent(Contracts.provisioningGrantEnded)
  ended(@Payload() event: GrantEvent) {
    return this.lifecycle.sync(event.grant);
  }

  @OnEvent(Contracts.provisioningGrantStuck)
  stuck(@Payload() event: GrantEvent) {
    return this.lifecycle.sync(event.grant);
  }

  @OnEvent(Contracts.provisioningGrantFailed)
  failed(@Payload() event: GrantEvent) {
    return this.lifecycle.sync(event.grant);
  }
}
