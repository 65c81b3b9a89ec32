import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { Contracts, GroupInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { parseInput } from './validate';

export const GroupListQuery = Contracts.accessGroupsList.request.strict();

/** Groups; a user's unknown group names also create groups. */
@Controller('api/v1/groups')
export class GroupsHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Post()
  @Access('admin')
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessGroupsCreate, { actor: actorOf(caller), input: parseInput(GroupInput, body) });
  }

  @Get()
  @Access('admin')
  list(@Query() query: unknown) {
    return this.bus.request(Contracts.accessGroupsList, parseInput(GroupListQuery, query));
  }
}
