import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { DriftService } from '../drift/drift.service';
import { GrantsService } from './grants.service';

/** Served on this connector's own subjects: `connector.<CONNECTOR_ID>.grants.*`. */
@Controller()
export class GrantsRpcController {
  constructor(
    private readonly grants: GrantsService,
    private readonly drift: DriftService,
  ) {}

  @Rpc(Contracts.provisioningGrantsCreate)
  create(@Payload() request: Received<'provisioningGrantsCreate'>) {
    return this.grants.create(request);
  }

  @Rpc(Contracts.provisioningGrantsGet)
  get(@Payload() { id }: Received<'provisioningGrantsGet'>) {
    return this.grants.get(id);
  }

  @Rpc(Contracts.provisioningGrantsList)
  list(@Payload() { integrationId, status, pageSize, pageToken }: Received<'provisioningGrantsList'>) {
    return this.grants.list({ integrationId, status }, pageSize, pageToken);
  }

  @Rpc(Contracts.provisioningGrantsRevoke)
  revoke(@Payload() { id, revokedBy, actor }: Received<'provisioningGrantsRevoke'>) {
    return this.grants.revoke(id, revokedBy, actor);
  }

  @Rpc(Contracts.provisioningGrantsExtend)
  extend(@Payload() { id, expiresAt, actor }: Received<'provisioningGrantsExtend'>) {
    return this.grants.extend(id, expiresAt, actor);
  }

  @Rpc(Contracts.provisioningGrantsResetCredentials)
  reset(@Payload() { id, actor }: Received<'provisioningGrantsResetCredentials'>) {
    return this.grants.resetCredentials(id, actor);
  }

  @Rpc(Contracts.provisioningDriftReport)
  driftReport(@Payload() { integrationId }: Received<'provisioningDriftReport'>) {
    return this.drift.report(integrationId, false);
  }

  @Rpc(Contracts.provisioningDriftRepair)
  driftRepair(@Payload() { integrationId, actor }: Received<'provisioningDriftRepair'>) {
    return this.drift.report(integrationId, true, actor);
  }
}
