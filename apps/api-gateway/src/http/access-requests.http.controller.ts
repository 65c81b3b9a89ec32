import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { AccessRequestInput, AccessRequestQuery, Contracts, DurationMinutes, text } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { callerOf } from './access-flows.http.controller';
import { NoStore } from './no-store';
import { IdParam, parseInput } from './validate';

export const DecisionBody = z.object({ reason: text({ trim: true, max: 2000 }).optional() }).strict();
export const ExtendRequestBody = z.object({ minutes: DurationMinutes }).strict();
export const AccessRequestListQuery = AccessRequestQuery.extend({
  awaitingMyApproval: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
}).strict();

/**
 * Access requests. Any authenticated person may call these; the access service decides what they
 * may do with each request (requesters, approvers, admins).
 */
@Controller('api/v1/access-requests')
export class AccessRequestsHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Post()
  @Access('authenticated')
  @NoStore()
  async create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller, @Res({ passthrough: true }) res: Response) {
    const answer = await this.bus.request(Contracts.accessRequestsCreate, { caller: callerOf(caller), input: parseInput(AccessRequestInput, body) });
    res.status(answer.dryRun ? 200 : 201);
    return answer;
  }

  @Get()
  @Access('authenticated')
  list(@Query() query: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsList, { caller: callerOf(caller), query: parseInput(AccessRequestListQuery, query) });
  }

  @Get(':id')
  @Access('authenticated')
  get(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsGet, { caller: callerOf(caller), id: parseInput(IdParam, id, ['id']) });
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Access('authenticated')
  approve(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsApprove, {
      caller: callerOf(caller),
      id: parseInput(IdParam, id, ['id']),
      ...parseInput(DecisionBody, body ?? {}),
    });
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Access('authenticated')
  reject(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsReject, {
      caller: callerOf(caller),
      id: parseInput(IdParam, id, ['id']),
      ...parseInput(DecisionBody, body ?? {}),
    });
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Access('authenticated')
  revoke(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsRevoke, {
      caller: callerOf(caller),
      id: parseInput(IdParam, id, ['id']),
      ...parseInput(DecisionBody, body ?? {}),
    });
  }

  @Post(':id/extend')
  @HttpCode(200)
  @Access('authenticated')
  extend(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsExtend, {
      caller: callerOf(caller),
      id: parseInput(IdParam, id, ['id']),
      ...parseInput(ExtendRequestBody, body),
    });
  }

  @Get(':id/access-details')
  @Access('authenticated')
  @NoStore()
  accessDetails(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsAccessDetails, { caller: callerOf(caller), id: parseInput(IdParam, id, ['id']) });
  }

  @Post(':id/reset-credentials')
  @HttpCode(200)
  @Access('authenticated')
  @NoStore()
  resetCredentials(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessRequestsResetCredentials, { caller: callerOf(caller), id: parseInput(IdParam, id, ['id']) });
  }
}
