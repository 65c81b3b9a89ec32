import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { Actor, actorOfCaller, Caller } from '@latchkey/contracts';

/** Who sent an authenticated request: the user behind the token, as the access service knows them now. */
export type AuthenticatedCaller = Caller & { tokenId: string };
export type AuthenticatedRequest = Request & { caller?: AuthenticatedCaller };

/** The caller of a route guarded as 'authenticated' or 'admin' (set by AuthGuard). */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): AuthenticatedCaller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route without authentication');
  return caller;
});

/** How the audit log names the caller. */
export const actorOf = (caller: AuthenticatedCaller): Actor => actorOfCaller(caller);
