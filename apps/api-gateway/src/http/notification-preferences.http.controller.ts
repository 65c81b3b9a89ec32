import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { Contracts, NotificationDefaultsInput, NotificationPreferencesInput, PersonalDeliveriesQuery } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

/** Where people are told (email, their own Slack) and of which events: each person sets their own; admins set the organisation's defaults. Essential messages cannot be turned off. */
@Controller('api/v1')
export class NotificationPreferencesHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Get('me/notification-preferences')
  @Access('authenticated')
  mine(@CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsPreferencesGet, { userId: caller.userId });
  }

  @Put('me/notification-preferences')
  @Access('authenticated')
  setMine(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsPreferencesSet, {
      userId: caller.userId,
      email: caller.email,
      input: parseInput(NotificationPreferencesInput, body),
      actor: actorOf(caller),
    });
  }

  /** The messages to the caller's own Slack and email, newest first: status, attempts, errors. */
  @Get('me/notification-deliveries')
  @Access('authenticated')
  myDeliveries(@Query() query: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsPersonalDeliveriesList, { ...parseInput(PersonalDeliveriesQuery, query), email: caller.email });
  }

  /** The same log for one person, for an admin finding out why someone was not told. */
  @Get('users/:id/notification-deliveries')
  @Access('admin')
  async deliveriesOf(@Param('id') id: string, @Query() query: unknown) {
    const input = parseInput(PersonalDeliveriesQuery, query);
    const user = await this.bus.request(Contracts.accessUsersGet, { id: parseInput(IdParam, id, ['id']) });
    return this.bus.request(Contracts.notificationsPersonalDeliveriesList, { ...input, email: user.email });
  }

  @Get('notification-preferences/defaults')
  @Access('admin')
  defaults() {
    return this.bus.request(Contracts.notificationsDefaultsGet, {});
  }

  @Put('notification-preferences/defaults')
  @Access('admin')
  setDefaults(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.notificationsDefaultsSet, { input: parseInput(NotificationDefaultsInput, body), actor: actorOf(caller) });
  }
}
