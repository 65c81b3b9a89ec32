import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { DriftService } from '../drift/drift.service';
import { GrantsService } from './grants.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

/** Served on this connector's own subjects: `connector.<CONNECTOR_ID>.grants.*`. */
@Controller()
export class GrantsRpcController {
  constructor(
    private readonly grants: GrantsService,
    private readonly drift: DriftService,
  ) {}

  @Rpc(Contracts.provisioningGrantsCreate)
  create(@Payload() request: Req<'provisioningGrantsCreate'>) {
    return this.grants.create(request);
  }

  @Rpc(Contracts.provisioningGrantsGet)
  get(@Payload() { id }: Req<'provisioningGrantsGet'>) {
    return this.grants.get(id);
  }

  @Rpc(Contracts.provisioningGrantsList)
  list(@Payload() { integrationId, status, pageSize, pageToken }: Req<'provisioningGrantsList'>) {
    return this.grants.list({ integrationId, status }, pageSize, pageToken);
  }

  @Rpc(Contracts.provisioningGrantsRevoke)
  revoke(@Payload() { id, revokedBy, actor }: Req<'provisioningGrantsRevoke'>) {
    return this.grants.revoke(id, revokedBy, actor);
  }

  @Rpc(Contracts.provisioningGrantsExtend)
  extend(@Payload() { id, expiresAt, actor }: Req<'provisioningGrantsExtend'>) {
    return this.grants.extend(id, expiresAt, actor);
  }

  @Rpc(Contracts.provisioningGrantsResetCredentials)
  reset(@Payload() { id, actor }: Req<'provisioningGrantsResetCredentials'>) {
    return this.grants.resetCredentials(id, actor);
  }

  @Rpc(Contracts.provisioningDriftReport)
  driftReport(@Payload() { integrationId }: Req<'provisioningDriftReport'>) {
    return this.drift.report(integrationId, false);
  }

  @Rpc(Contracts.provisioningDriftRepair)
  driftRepair(@Payload() { integrationId, actor }: Req<'provisioningDriftRepair'>) {
    return this.drift.report(integrationId, true, actor);
  }
}
