import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { AppException, Contracts, integrationFor, Page } from '@latchkey/contracts';
import { validateIntegrationInput } from '@latchkey/config';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

export const IntegrationListQuery = z.object(Page).strict();

@Controller('api/v1/integrations')
export class IntegrationsHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Post()
  @Access('admin')
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const result = validateIntegrationInput(body, 'create');
    if (!result.ok) throw AppException.validation(result.issues);
    return this.bus.request(Contracts.catalogIntegrationsCreate, { input: result.value, actor: actorOf(caller) });
  }

  /** Everyone may list integrations; only admins see their secrets' sources, connector login, preflight and status internals. */
  @Get()
  @Access('authenticated')
  async list(@Query() query: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const page = await this.bus.request(Contracts.catalogIntegrationsList, parseInput(IntegrationListQuery, query));
    return { ...page, items: page.items.map((i) => integrationFor(caller.role, i)) };
  }

  @Get(':id')
  @Access('authenticated')
  async get(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return integrationFor(caller.role, await this.bus.request(Contracts.catalogIntegrationsGet, { id: parseInput(IdParam, id, ['id']) }));
  }

  @Put(':id')
  @Access('admin')
  update(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    const result = validateIntegrationInput(body, 'update');
    if (!result.ok) throw AppException.validation(result.issues);
    return this.bus.request(Contracts.catalogIntegrationsUpdate, { id: checkedId, input: result.value, actor: actorOf(caller) });
  }

  @Delete(':id')
  @Access('admin')
  delete(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.catalogIntegrationsDelete, { id: parseInput(IdParam, id, ['id']), actor: actorOf(caller) });
  }

  @Post(':id/test')
  @HttpCode(200)
  @Access('admin')
  test(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.catalogIntegrationsTest, { id: parseInput(IdParam, id, ['id']), actor: actorOf(caller) }, { timeoutMs: 90_000 });
  }
}
