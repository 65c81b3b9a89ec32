import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { Actor, actorOfCaller, Caller } from '@latchkey/contracts';

/** The browser session behind a cookie-authenticated request. */
export interface CallerSession {
  /** The session's row id (for the audit log), not the cookie's secret id. */
  id: string;
  /** SHA-256 of the cookie's id: how the access service finds the session. */
  hash: string;
  csrfToken: string;
  name: string;
  expiresAt: string;
  idleExpiresAt: string;
}

/**
 * Who sent an authenticated request: the user behind the API token (`tokenId`) or the browser
 * session (`session`), as the access service knows them now.
 */
export type AuthenticatedCaller = Caller & { tokenId?: string; session?: CallerSession };
export type AuthenticatedRequest = Request & { caller?: AuthenticatedCaller };

/** The caller of a route guarded as 'authenticated' or 'admin' (set by AuthGuard). */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): AuthenticatedCaller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route without authentication');
  return caller;
});

/** How the audit log names the caller. */
export const actorOf = (caller: AuthenticatedCaller): Actor => actorOfCaller(caller);
