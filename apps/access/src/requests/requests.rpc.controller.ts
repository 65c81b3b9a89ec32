import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { PayloadOf, ReceivedOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import { GrantLifecycle } from './grant-lifecycle.service';
import { RequestsService } from './requests.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;
type GrantEvent = PayloadOf<typeof Contracts.provisioningGrantEnded>;

@Controller()
export class RequestsRpcController {
  constructor(
    private readonly requests: RequestsService,
    private readonly lifecycle: GrantLifecycle,
  ) {}

  @Rpc(Contracts.accessRequestsCreate)
  create(@Payload() req: Req<'accessRequestsCreate'>) {
    return this.requests.create(req.caller, req.input);
  }

  @Rpc(Contracts.accessRequestsList)
  list(@Payload() req: Req<'accessRequestsList'>) {
    return this.requests.list(req.caller, req.query);
  }

  @Rpc(Contracts.accessRequestsGet)
  get(@Payload() req: Req<'accessRequestsGet'>) {
    return this.requests.get(req.caller, req.id);
  }

  @Rpc(Contracts.accessRequestsApprove)
  approve(@Payload() req: Req<'accessRequestsApprove'>) {
    return this.requests.approve(req.caller, req.id, req.reason || undefined);
  }

  @Rpc(Contracts.accessRequestsReject)
  reject(@Payload() req: Req<'accessRequestsReject'>) {
    return this.requests.reject(req.caller, req.id, req.reason || undefined);
  }

  @Rpc(Contracts.accessRequestsRevoke)
  revoke(@Payload() req: Req<'accessRequestsRevoke'>) {
    return this.requests.revoke(req.caller, req.id, req.reason || undefined);
  }

  @Rpc(Contracts.accessRequestsExtend)
  extend(@Payload() req: Req<'accessRequestsExtend'>) {
    return this.requests.extend(req.caller, req.id, req.minutes);
  }

  @Rpc(Contracts.accessRequestsAccessDetails)
  accessDetails(@Payload() req: Req<'accessRequestsAccessDetails'>) {
    return this.requests.accessDetails(req.caller, req.id);
  }

  @Rpc(Contracts.accessRequestsResetCredentials)
  resetCredentials(@Payload() req: Req<'accessRequestsResetCredentials'>) {
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
