import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { AppException, ErrorCode } from '@latchkey/contracts';
import { Authenticator } from './authenticator';
import type { AuthenticatedCaller, AuthenticatedRequest } from './caller';
import { clearSessionCookie, CSRF_HEADER, csrfMatches, readSessionId, SAFE_METHODS, secureCookie, SESSION_COOKIE } from './session-cookie';

export const ACCESS_KEY = 'latchkey:access';
/** 'scim': only a SCIM token (checked by the SCIM controller against the access service); people's tokens and sessions get 401. */
export type Access = 'public' | 'authenticated' | 'admin' | 'scim';
/** Who may call a route; routes without it are refused, so none is open by accident. */
export const Access = (access: Access) => SetMetadata(ACCESS_KEY, access);

/** LATCHKEY_PUBLIC_URL, or undefined. */
export const PUBLIC_URL = Symbol('PUBLIC_URL');
/** METRICS_TOKEN, or undefined. */
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');
const METRICS_SCRAPE_KEY = 'latchkey:metrics-scrape';
/** The route also opens to the METRICS_TOKEN bearer (a scraper that may read metrics and nothing else). */
export const MetricsScrape = () => SetMetadata(METRICS_SCRAPE_KEY, true);

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Every HTTP route: 'public' ones pass; the others need a bearer token the access service knows
 * or, without an Authorization header, a live session cookie (401 otherwise), and 'admin' ones a
 * caller with the admin role (403 otherwise). A state-changing call authenticated by the cookie
 * must carry the session's X-CSRF-Token (403 otherwise); bearer calls need none (a browser never
 * adds that header to a cross-site request by itself). The caller is set on the request for
 * `@CurrentCaller()`. Finer rules (own tokens, approvers) are the owning service's.
 */
/** The header a tool sends to name itself (`cli` for `latchkey`). */
export const CLIENT_HEADER = 'x-latchkey-client';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
    @Inject(METRICS_TOKEN) private readonly metricsToken: string | undefined,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (access === undefined) throw new AppException(ErrorCode.Forbidden, 'This route declares no access rule.');
    if (access === 'public' || access === 'scim') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.isMetricsScraper(context, request)) return true;
    const caller =
      request.headers.authorization !== undefined ? await this.byToken(request) : await this.bySession(request, context.switchToHttp().getResponse<Response>());
    request.caller = caller;
    if (access === 'admin' && caller.role !== 'admin') throw new AppException(ErrorCode.Forbidden, 'This route is for administrators.');
    return true;
  }

  private isMetricsScraper(context: ExecutionContext, request: AuthenticatedRequest): boolean {
    if (!this.metricsToken || !this.reflector.get<boolean | undefined>(METRICS_SCRAPE_KEY, context.getHandler())) return false;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]), digest(this.metricsToken));
  }

  private async byToken(request: AuthenticatedRequest): Promise<AuthenticatedCaller> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new AppException(ErrorCode.Unauthenticated, 'Send an API token as "Authorization: Bearer <token>".');
    const caller = await this.authenticator.authenticate(match[1]);
    if (!caller) throw new AppException(ErrorCode.Unauthenticated, 'The API token is unknown, expired or revoked.');
    // The `latchkey` CLI says so, and the audit log records it as the source of what it changes.
    return request.headers[CLIENT_HEADER] === 'cli' ? { ...caller, source: 'cli' } : caller;
  }

  private async bySession(request: AuthenticatedRequest, response: Response): Promise<AuthenticatedCaller> {
    const sessionId = readSessionId(request);
    if (!sessionId) {
      if (request.headers.cookie?.includes(`${SESSION_COOKIE}=`)) clearSessionCookie(response, secureCookie(request, this.publicUrl));
      throw new AppException(ErrorCode.Unauthenticated, 'Sign in, or send an API token as "Authorization: Bearer <token>".');
    }
    const caller = await this.authenticator.authenticateSession(sessionId);
    if (!caller) {
      clearSessionCookie(response, secureCookie(request, this.publicUrl));
      throw new AppException(ErrorCode.Unauthenticated, 'Your session has ended (signed out, expired, or your account changed). Sign in again.');
    }
    if (!SAFE_METHODS.has(request.method) && !csrfMatches(request.header(CSRF_HEADER), sessionId)) {
      throw new AppException(
        ErrorCode.CsrfTokenInvalid,
        "This call changes something and was authenticated by the session cookie: send the session's csrfToken as the X-CSRF-Token header.",
      );
    }
    return caller;
  }
}
