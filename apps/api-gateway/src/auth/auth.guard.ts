import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ErrorCode } from '@latchkey/contracts';
import { AppException } from '@latchkey/messaging';
import { Role } from './api-token.entity';
import { ApiTokensRepository } from './api-tokens.repository';

export const ACCESS_KEY = 'latchkey:access';
export type Access = 'public' | 'authenticated' | 'admin';
/** Who may call a route; routes without it are refused, so none is open by accident. */
export const Access = (access: Access) => SetMetadata(ACCESS_KEY, access);

export interface Caller {
  tokenId: string;
  role: Role;
  userId: string | null;
}
export type AuthenticatedRequest = Request & { caller?: Caller };

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: ApiTokensRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (access === undefined) throw new AppException(ErrorCode.Forbidden, 'This route declares no access rule.');
    if (access === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new AppException(ErrorCode.Unauthenticated, 'Send an API token as "Authorization: Bearer <token>".');
    const token = await this.tokens.findUsable(match[1]);
    if (!token) throw new AppException(ErrorCode.Unauthenticated, 'The API token is unknown, expired or revoked.');
    request.caller = { tokenId: token.id, role: token.role, userId: token.userId };
    if (access === 'admin' && token.role !== 'admin') {
      throw new AppException(ErrorCode.Forbidden, 'This route is for administrators.');
    }
    return true;
  }
}
