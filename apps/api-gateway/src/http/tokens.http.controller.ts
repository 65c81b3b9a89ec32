import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { Contracts, Page, TokenInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { NoStore } from './no-store';
import { IdParam, parseInput } from './validate';

/** `userId` defaults to the caller: people make tokens for themselves. */
export const TokenBody = TokenInput.extend({ userId: TokenInput.shape.userId.optional() });
export const TokenListQuery = z.object({ userId: z.string().uuid('must be a UUID').optional(), ...Page }).strict();

/**
 * API tokens. Anyone may create, list and revoke their own; admins anyone's (the access service
 * checks it against the caller's current role). The token itself is in the creation answer only.
 */
@Controller('api/v1/tokens')
export class TokensHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly authenticator: Authenticator,
  ) {}

  @Post()
  @Access('authenticated')
  @NoStore()
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const input = parseInput(TokenBody, body);
    return this.bus.request(Contracts.accessTokensCreate, { actor: actorOf(caller), input: { ...input, userId: input.userId ?? caller.userId } });
  }

  @Get()
  @Access('authenticated')
  list(@Query() query: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessTokensList, { actor: actorOf(caller), ...parseInput(TokenListQuery, query) });
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Access('authenticated')
  async revoke(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const token = await this.bus.request(Contracts.accessTokensRevoke, { actor: actorOf(caller), id: parseInput(IdParam, id, ['id']) });
    this.authenticator.forgetToken(token.id);
    return token;
  }
}
