import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { Contracts, ScimTokenInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { NoStore } from './no-store';
import { IdParam, parseInput } from './validate';

/** Bearer tokens for an identity provider's SCIM client (admins only); the token is in the creation answer only. */
@Controller('api/v1/scim-tokens')
export class ScimTokensHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Post()
  @Access('admin')
  @NoStore()
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessScimTokensCreate, { actor: actorOf(caller), input: parseInput(ScimTokenInput, body) });
  }

  @Get()
  @Access('admin')
  list() {
    return this.bus.request(Contracts.accessScimTokensList, {});
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Access('admin')
  revoke(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessScimTokensRevoke, { actor: actorOf(caller), id: parseInput(IdParam, id, ['id']) });
  }
}
