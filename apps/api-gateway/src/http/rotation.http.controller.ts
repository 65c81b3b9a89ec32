import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import { ConnectorClient } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

/** A run may wait a minute for another run of the same connector user (the lock on the target). */
const ROTATE_TIMEOUT_MS = 120_000;

@Controller('api/v1/integrations')
export class RotationHttpController {
  constructor(private readonly connectors: ConnectorClient) {}

  /** Rotates the connector user's password now on the integration's connector; a failure is answered in `result` and kept on the integration. */
  @Post(':id/rotate')
  @HttpCode(200)
  @Access('admin')
  async rotate(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const integration = await this.connectors.integration(parseInput(IdParam, id, ['id']));
    return this.connectors.request(
      Contracts.rotationRun,
      integration,
      { integrationId: integration.id, actor: actorOf(caller) },
      { timeoutMs: ROTATE_TIMEOUT_MS },
    );
  }
}
