import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException, Contracts, ErrorCode } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { Access, PUBLIC_URL } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { OidcClient, OidcError } from '../auth/oidc/oidc-client';
import type { OidcSettings } from '../auth/oidc/oidc-client';
import { SsoClaimsError, ssoIdentityFrom } from '../auth/oidc/oidc-claims';
import { OIDC_FLOW_COOKIE, OIDC_FLOW_PATH, OIDC_FLOW_TTL_MS, openFlow, readCookie, safeReturnTo, sealFlow } from '../auth/oidc/oidc-flow';
import { clientOf, newSessionId, readSessionId, secureCookie, sessionHash, setSessionCookie } from '../auth/session-cookie';

/** Where a refused sign-in lands: the sign-in page shows the code's message. */
const signInPageWith = (code: string) => `/sign-in?error=${encodeURIComponent(code)}`;

/**
 * Single sign-on with an OpenID Provider. `start` seals state, nonce and the PKCE verifier into a
 * short-lived HttpOnly cookie (encrypted and authenticated, scoped to these two routes) and sends
 * the browser to the provider; `callback` checks the provider's answer against it, validates the
 * ID token, and opens the same session (cookie) as a password sign-in. Failures land on the
 * sign-in page with `?error=<code>`; the reasons are in the log and the audit log.
 */
@Controller('api/v1/auth/oidc')
export class OidcHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly authenticator: Authenticator,
    private readonly client: OidcClient,
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  private async settings(): Promise<OidcSettings> {
    const settings = await this.client.current();
    if (!settings)
      throw new AppException(
        ErrorCode.NotFound,
        'Single sign-on is not set up here (an admin sets it under Settings, or OIDC_ISSUER_URL): sign in with email and password.',
      );
    return settings;
  }

  @Get('start')
  @Access('public')
  async start(@Query('returnTo') returnTo: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const settings = await this.settings();
    res.setHeader('Cache-Control', 'no-store');
    try {
      const { url, flow } = await this.client.start(settings, safeReturnTo(returnTo));
      // SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
      res.cookie(OIDC_FLOW_COOKIE, sealFlow(flow, settings.clientSecret), {
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookie(req, this.publicUrl),
        path: OIDC_FLOW_PATH,
        maxAge: OIDC_FLOW_TTL_MS,
      });
      res.redirect(302, url);
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      res.redirect(303, signInPageWith(err.code));
    }
  }

  @Get('callback')
  @Access('public')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const settings = await this.settings();
    const secure = secureCookie(req, this.publicUrl);
    res.setHeader('Cache-Control', 'no-store');
    // Spent whatever happens: a flow is good for one callback.
    res.clearCookie(OIDC_FLOW_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: OIDC_FLOW_PATH });
    const flow = openFlow(readCookie(req.headers.cookie, OIDC_FLOW_COOKIE), settings.clientSecret);
    if (!flow) {
      this.logger.warn({ reason: 'no valid sign-in flow cookie (missing, expired, tampered with or from another browser)' }, 'OIDC callback refused');
      res.redirect(303, signInPageWith('OIDC_FLOW_INVALID'));
      return;
    }
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    let identity;
    try {
      identity = ssoIdentityFrom(await this.client.finish(settings, query, flow), settings.groupsClaim);
    } catch (err) {
      if (err instanceof OidcError) {
        res.redirect(303, signInPageWith(err.code));
        return;
      }
      if (err instanceof SsoClaimsError) {
        this.logger.warn({ reason: err.message }, 'OIDC sign-in refused');
        res.redirect(303, signInPageWith('OIDC_REFUSED'));
        return;
      }
      throw err;
    }

    const previous = readSessionId(req);
    const sessionId = newSessionId();
    try {
      const session = await this.bus.request(Contracts.accessSessionsCreateSso, {
        identity,
        sessionHash: sessionHash(sessionId),
        ...(previous ? { previousSessionHash: sessionHash(previous) } : {}),
        client: clientOf(req),
      });
      if (previous) this.authenticator.forgetSession(sessionHash(previous));
      // Memberships may have changed: no cached answer about this user outlives the sign-in.
      this.authenticator.forgetUser(session.user.id);
      setSessionCookie(res, sessionId, new Date(session.expiresAt), secure);
      res.redirect(303, flow.returnTo);
    } catch (err) {
      if (err instanceof AppException && (err.code === ErrorCode.Forbidden || err.code === ErrorCode.Conflict)) {
        const code = err.code === ErrorCode.Conflict ? 'OIDC_RETRY' : err.details?.reason === 'NO_ACCOUNT' ? 'OIDC_NO_ACCOUNT' : 'OIDC_NOT_ALLOWED';
        res.redirect(303, signInPageWith(code));
        return;
      }
      throw err;
    }
  }
}
