import { Body, Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { Contracts, RequestableQuery, UserInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { callerOf } from './access-flows.http.controller';
import { IdParam, parseInput } from './validate';

export const UserListQuery = Contracts.accessUsersList.request.strict();
export const RequestableListQuery = RequestableQuery.strict();

/** Users (admins manage them) and `me`, the caller as the access service knows them now. */
@Controller('api/v1')
export class UsersHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly authenticator: Authenticator,
  ) {}

  @Post('users')
  @Access('admin')
  create(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessUsersCreate, { actor: actorOf(caller), input: parseInput(UserInput, body) });
  }

  @Get('users')
  @Access('admin')
  list(@Query() query: unknown) {
    return this.bus.request(Contracts.accessUsersList, parseInput(UserListQuery, query));
  }

  @Get('users/:id')
  @Access('admin')
  get(@Param('id') id: string) {
    return this.bus.request(Contracts.accessUsersGet, { id: parseInput(IdParam, id, ['id']) });
  }

  /** Replaces the user (omitted groups and attributes become empty); their cached sessions here are dropped. */
  @Put('users/:id')
  @Access('admin')
  async update(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    const user = await this.bus.request(Contracts.accessUsersUpdate, { actor: actorOf(caller), id: checkedId, input: parseInput(UserInput, body) });
    this.authenticator.forgetUser(checkedId);
    return user;
  }

  @Delete('users/:id')
  @Access('admin')
  async delete(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    const deleted = await this.bus.request(Contracts.accessUsersDelete, { actor: actorOf(caller), id: checkedId });
    this.authenticator.forgetUser(checkedId);
    return deleted;
  }

  @Get('me')
  @Access('authenticated')
  me(@CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessUsersGet, { id: caller.userId });
  }

  /** What the caller's active access flows offer them: never a resource no flow offers them. */
  @Get('me/requestable')
  @Access('authenticated')
  requestable(@Query() query: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessMeRequestable, { caller: callerOf(caller), query: parseInput(RequestableListQuery, query) });
  }
}
