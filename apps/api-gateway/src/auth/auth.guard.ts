import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode } from '@latchkey/contracts';
import { AppException } from '@latchkey/messaging';
import { Authenticator } from './authenticator';
import type { AuthenticatedRequest } from './caller';

export const ACCESS_KEY = 'latchkey:access';
export type Access = 'public' | 'authenticated' | 'admin';
/** Who may call a route; routes without it are refused, so none is open by accident. */
export const Access = (access: Access) => SetMetadata(ACCESS_KEY, access);

/**
 * Every HTTP route: 'public' ones pass; the others need a bearer token the access service knows
 * (401 otherwise), and 'admin' ones a caller with the admin role (403 otherwise). The caller is
 * set on the request for `@CurrentCaller()`. Finer rules (own tokens, approvers) are the owning
 * service's.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (access === undefined) throw new AppException(ErrorCode.Forbidden, 'This route declares no access rule.');
    if (access === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new AppException(ErrorCode.Unauthenticated, 'Send an API token as "Authorization: Bearer <token>".');
    const caller = await this.authenticator.authenticate(match[1]);
    if (!caller) throw new AppException(ErrorCode.Unauthenticated, 'The API token is unknown, expired or revoked.');
    request.caller = caller;
    if (access === 'admin' && caller.role !== 'admin') throw new AppException(ErrorCode.Forbidden, 'This route is for administrators.');
    return true;
  }
}
