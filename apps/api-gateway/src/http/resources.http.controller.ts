import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { Contracts, ResourceQuery, Tags } from '@latchkey/contracts';
import { ConnectorClient, MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

export const ResourceListQuery = ResourceQuery.strict();
export const TagsBody = z.object({ tags: Tags }).strict();

/** The discovered inventory, and discovery on demand. */
@Controller('api/v1')
export class ResourcesHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly connectors: ConnectorClient,
  ) {}

  @Get('resources')
  @Access('authenticated')
  list(@Query() query: unknown) {
    return this.bus.request(Contracts.discoveryResourcesList, parseInput(ResourceListQuery, query));
  }

  @Get('resources/:id')
  @Access('authenticated')
  get(@Param('id') id: string) {
    return this.bus.request(Contracts.discoveryResourcesGet, { id: parseInput(IdParam, id, ['id']) });
  }

  @Put('resources/:id/tags')
  @Access('admin')
  putTags(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    return this.bus.request(Contracts.discoveryResourcesPutTags, { id: checkedId, ...parseInput(TagsBody, body), actor: actorOf(caller) });
  }

  /** Queued on the integration's own connector; 202 with the job that will run it. */
  @Post('integrations/:id/refresh')
  @HttpCode(202)
  @Access('admin')
  async refresh(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const integration = await this.connectors.integration(parseInput(IdParam, id, ['id']));
    const job = await this.connectors.request(Contracts.discoveryRefreshRequest, integration, { integrationId: integration.id, actor: actorOf(caller) });
    return { integrationId: integration.id, ...job };
  }
}
