import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { AccessFlowInput, Contracts, Page } from '@latchkey/contracts';
import type { Caller } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

export const AccessFlowListQuery = z
  .object({
    integrationId: IdParam.optional(),
    active: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    ...Page,
  })
  .strict();

/** The caller as the access service wants it (no token id). */
export const callerOf = ({ tokenId: _tokenId, ...caller }: AuthenticatedCaller): Caller => caller;

@Controller('api/v1/access-flows')
export class AccessFlowsHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Post()
  @Access('admin')
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessFlowsCreate, { caller: callerOf(caller), input: parseInput(AccessFlowInput, body) });
  }

  /** Who could request what and who would approve, for the flow in the body; nothing is saved. */
  @Post('dry-run')
  @Access('admin')
  @HttpCode(200)
  dryRun(@Body() body: unknown) {
    return this.bus.request(Contracts.accessFlowsDryRun, { input: parseInput(AccessFlowInput, body) });
  }

  @Get()
  @Access('admin')
  list(@Query() query: unknown) {
    return this.bus.request(Contracts.accessFlowsList, parseInput(AccessFlowListQuery, query));
  }

  @Get(':id')
  @Access('admin')
  get(@Param('id') id: string) {
    return this.bus.request(Contracts.accessFlowsGet, { id: parseInput(IdParam, id, ['id']) });
  }

  @Put(':id')
  @Access('admin')
  update(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    return this.bus.request(Contracts.accessFlowsUpdate, { caller: callerOf(caller), id: checkedId, input: parseInput(AccessFlowInput, body) });
  }

  @Delete(':id')
  @Access('admin')
  delete(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessFlowsDelete, { caller: callerOf(caller), id: parseInput(IdParam, id, ['id']) });
  }
}
