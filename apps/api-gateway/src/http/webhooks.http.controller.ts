import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { Contracts, DeliveryStatus, Page, WebhookInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

export const WebhookListQuery = z.object(Page).strict();
export const DeliveriesQuery = z.object({ status: DeliveryStatus.optional(), ...Page }).strict();

/** Webhook endpoints and their delivery log (admins only: an endpoint receives every matching event). */
@Controller('api/v1/webhooks')
export class WebhooksHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Post()
  @Access('admin')
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsWebhooksCreate, { input: parseInput(WebhookInput, body), actor: actorOf(caller) });
  }

  @Get()
  @Access('admin')
  list(@Query() query: unknown) {
    return this.bus.request(Contracts.notificationsWebhooksList, parseInput(WebhookListQuery, query));
  }

  @Get(':id')
  @Access('admin')
  get(@Param('id') id: string) {
    return this.bus.request(Contracts.notificationsWebhooksGet, { id: parseInput(IdParam, id, ['id']) });
  }

  @Put(':id')
  @Access('admin')
  update(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    return this.bus.request(Contracts.notificationsWebhooksUpdate, { id: checkedId, input: parseInput(WebhookInput, body), actor: actorOf(caller) });
  }

  @Delete(':id')
  @Access('admin')
  delete(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsWebhooksDelete, { id: parseInput(IdParam, id, ['id']), actor: actorOf(caller) });
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Access('admin')
  rotateSecret(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsWebhooksRotateSecret, { id: parseInput(IdParam, id, ['id']), actor: actorOf(caller) });
  }

  @Post(':id/test')
  @HttpCode(202)
  @Access('admin')
  test(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsWebhooksTest, { id: parseInput(IdParam, id, ['id']), actor: actorOf(caller) });
  }

  @Get(':id/deliveries')
  @Access('admin')
  deliveries(@Param('id') id: string, @Query() query: unknown) {
    return this.bus.request(Contracts.notificationsDeliveriesList, { id: parseInput(IdParam, id, ['id']), ...parseInput(DeliveriesQuery, query) });
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @Access('admin')
  redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsDeliveriesRedeliver, {
      id: parseInput(IdParam, id, ['id']),
      deliveryId: parseInput(IdParam, deliveryId, ['deliveryId']),
      actor: actorOf(caller),
    });
  }
}
