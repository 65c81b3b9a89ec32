import { Body, Controller, Get, Put } from '@nestjs/common';
import { Contracts, NotificationDefaultsInput, NotificationPreferencesInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { parseInput } from './validate';

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
    return this.bus.request(Contracts.notificationsPreferencesSet, { userId: caller.userId, email: caller.email, input: parseInput(NotificationPreferencesInput, body), actor: actorOf(caller) });
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
