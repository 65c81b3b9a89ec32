import { Body, Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { Contracts, GroupInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

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

  @Put(':id')
  @Access('admin')
  update(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    return this.bus.request(Contracts.accessGroupsUpdate, { actor: actorOf(caller), id: checkedId, input: parseInput(GroupInput, body) });
  }

  @Delete(':id')
  @Access('admin')
  delete(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessGroupsDelete, { actor: actorOf(caller), id: parseInput(IdParam, id, ['id']) });
  }
}
