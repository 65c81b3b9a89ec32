import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

/** A run may wait a minute for another run of the same connector user (the lock on the target). */
const ROTATE_TIMEOUT_MS = 120_000;

@Controller('api/v1/integrations')
export class RotationHttpController {
  constructor(private readonly bus: MessageBus) {}

  /** Rotates the connector user's password now on the integration's connector; a failure is answered in `result` and kept on the integration. */
  @Post(':id/rotate')
  @HttpCode(200)
  @Access('admin')
  async rotate(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const integration = await this.bus.request(Contracts.catalogIntegrationsGet, { id: parseInput(IdParam, id, ['id']) });
    return this.bus.request(Contracts.rotationRun, { integrationId: integration.id, actor: actorOf(caller) }, { connectorId: integration.connectorId, timeoutMs: ROTATE_TIMEOUT_MS });
  }
}
