import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res, StreamableFile } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Contracts, RequestableQuery, requestablePageJson, setPasswordUrl, UserInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access, PUBLIC_URL } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { publicBaseUrl } from '../auth/session-cookie';
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
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
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

  /** Ends the user's sessions and tokens; they cannot sign in until reactivated. Dropped from this gateway's cache at once. */
  @Post('users/:id/deactivate')
  @Access('admin')
  @HttpCode(200)
  deactivate(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.setActive(id, false, caller);
  }

  /** Lets the user sign in again (their old tokens stay revoked). */
  @Post('users/:id/reactivate')
  @Access('admin')
  @HttpCode(200)
  reactivate(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    return this.setActive(id, true, caller);
  }

  /** A one-time link for a user without a password yet: in this answer only, never cached. */
  @Post('users/:id/invite')
  @Access('admin')
  invite(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.passwordLink(id, 'invite', caller, req, res);
  }

  /** A one-time link to choose a new password; the current one keeps working until it is used. */
  @Post('users/:id/reset-password')
  @Access('admin')
  resetPassword(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.passwordLink(id, 'reset', caller, req, res);
  }

  @Get('me')
  @Access('authenticated')
  me(@CurrentCaller() caller: AuthenticatedCaller) {
    return this.bus.request(Contracts.accessUsersGet, { id: caller.userId });
  }

  /** What the caller's active access flows offer them: never a resource no flow offers them. */
  @Get('me/requestable')
  @Access('authenticated')
  async requestable(@Query() query: unknown, @CurrentCaller() caller: AuthenticatedCaller): Promise<StreamableFile> {
    const page = await this.bus.request(Contracts.accessMeRequestablePage, { caller: callerOf(caller), query: parseInput(RequestableListQuery, query) });
    // Written out as UTF-8 (every offering flow on every row) without building the objects: see requestablePageJson.
    return new StreamableFile(requestablePageJson(page), { type: 'application/json; charset=utf-8' });
  }

  private async setActive(id: string, active: boolean, caller: AuthenticatedCaller) {
    const checkedId = parseInput(IdParam, id, ['id']);
    const user = await this.bus.request(Contracts.accessUsersSetActive, { actor: actorOf(caller), id: checkedId, active });
    this.authenticator.forgetUser(checkedId);
    return user;
  }

  private async passwordLink(id: string, purpose: 'invite' | 'reset', caller: AuthenticatedCaller, req: Request, res: Response) {
    const link = await this.bus.request(Contracts.accessPasswordLinksCreate, { actor: actorOf(caller), id: parseInput(IdParam, id, ['id']), purpose });
    res.setHeader('Cache-Control', 'no-store');
    return { url: setPasswordUrl(publicBaseUrl(req, this.publicUrl), link.token), expiresAt: link.expiresAt };
  }
}
