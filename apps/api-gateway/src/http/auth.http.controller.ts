import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException, CLI_TOKEN_DAYS, CliSignInInput, Contracts, ErrorCode, SetPasswordInput, SignInInput } from '@latchkey/contracts';
import type { CliSignInAnswer, SessionAnswer } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access, PUBLIC_URL } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { OidcClient } from '../auth/oidc/oidc-client';
import { sealToCliKey, UnusableKeyError } from '../auth/cli-token-seal';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller, CallerSession } from '../auth/caller';
import { clearSessionCookie, clientOf, csrfTokenFor, newSessionId, readSessionId, secureCookie, sessionHash, setSessionCookie } from '../auth/session-cookie';
import { NoStore } from './no-store';
import { parseInput } from './validate';

const LOCAL_PROVIDER = { id: 'local', name: 'Email and password' };

function sessionOf(caller: AuthenticatedCaller): CallerSession {
  if (!caller.session) throw new AppException(ErrorCode.Unauthenticated, 'This call needs a browser session (the session cookie); API tokens have none.');
  return caller.session;
}

/**
 * Signing in with a browser. The gateway makes the session id (32 random bytes), puts it in the
 * `latchkey_session` cookie and sends only its SHA-256 to the access service, which checks the
 * password and keeps the session. Answers holding a CSRF token or a link are never cached.
 */
@Controller('api/v1/auth')
export class AuthHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly authenticator: Authenticator,
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
    private readonly oidc: OidcClient,
  ) {}

  @Get('providers')
  @Access('public')
  async providers(): Promise<{ providers: Array<{ id: string; name: string; startUrl?: string }> }> {
    const sso = await this.oidc.current();
    if (!sso) return { providers: [LOCAL_PROVIDER] };
    return { providers: [LOCAL_PROVIDER, { id: 'oidc', name: sso.providerName, startUrl: '/api/v1/auth/oidc/start' }] };
  }

  /** A new session id at every sign-in (no fixation); a session the browser already had ends. */
  @Post('sign-in')
  @HttpCode(200)
  @Access('public')
  async signIn(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionAnswer> {
    const input = parseInput(SignInInput, body);
    const previous = readSessionId(req);
    const sessionId = newSessionId();
    const session = await this.bus.request(Contracts.accessSessionsCreate, {
      input,
      sessionHash: sessionHash(sessionId),
      ...(previous ? { previousSessionHash: sessionHash(previous) } : {}),
      client: clientOf(req),
    });
    if (previous) this.authenticator.forgetSession(sessionHash(previous));
    setSessionCookie(res, sessionId, new Date(session.expiresAt), secureCookie(req, this.publicUrl));
    res.setHeader('Cache-Control', 'no-store');
    return { user: session.user, csrfToken: csrfTokenFor(sessionId), expiresAt: session.expiresAt, idleExpiresAt: session.idleExpiresAt };
  }

  @Get('session')
  @Access('authenticated')
  session(@CurrentCaller() caller: AuthenticatedCaller, @Res({ passthrough: true }) res: Response): SessionAnswer {
    const session = sessionOf(caller);
    res.setHeader('Cache-Control', 'no-store');
    return {
      user: { id: caller.userId, email: caller.email, name: session.name, role: caller.role, groups: caller.groups },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
      idleExpiresAt: session.idleExpiresAt,
    };
  }

  @Post('sign-out')
  @HttpCode(204)
  @Access('authenticated')
  async signOut(@CurrentCaller() caller: AuthenticatedCaller, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const session = sessionOf(caller);
    await this.bus.request(Contracts.accessSessionsEnd, { sessionHash: session.hash, everywhere: false, actor: actorOf(caller), client: clientOf(req) });
    this.authenticator.forgetSession(session.hash);
    clearSessionCookie(res, secureCookie(req, this.publicUrl));
  }

  /** Ends every session of the caller, this one included. */
  @Post('sign-out-everywhere')
  @HttpCode(200)
  @Access('authenticated')
  async signOutEverywhere(
    @CurrentCaller() caller: AuthenticatedCaller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ sessionsEnded: number }> {
    const session = sessionOf(caller);
    const { ended } = await this.bus.request(Contracts.accessSessionsEnd, {
      sessionHash: session.hash,
      everywhere: true,
      actor: actorOf(caller),
      client: clientOf(req),
    });
    this.authenticator.forgetUser(caller.userId);
    clearSessionCookie(res, secureCookie(req, this.publicUrl));
    return { sessionsEnded: ended };
  }

  /** Sets a password with a one-time link's token; the user's sessions end, and they sign in with it. */
  @Post('password')
  @HttpCode(204)
  @Access('public')
  async setPassword(@Body() body: unknown, @Req() req: Request): Promise<void> {
    const input = parseInput(SetPasswordInput, body);
    const { userId } = await this.bus.request(Contracts.accessPasswordsSet, { input, client: clientOf(req) });
    this.authenticator.forgetUser(userId);
  }

  /**
   * `latchkey login` in the browser: the signed-in person allowed the CLI on the `/cli/sign-in`
   * page, which sends the CLI's one-time public key here. A new API token of the caller's own
   * (CLI_TOKEN_DAYS days, named after the computer) comes back sealed to that key: the page hands
   * it to the CLI's loopback listener and can never read it. Sessions only (a token cannot mint another this way).
   */
  @Post('cli-tokens')
  @HttpCode(201)
  @Access('authenticated')
  @NoStore()
  async cliToken(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller): Promise<CliSignInAnswer> {
    sessionOf(caller);
    const input = parseInput(CliSignInInput, body);
    // Checked before a token exists: a key that cannot be sealed to leaves nothing behind.
    try {
      sealToCliKey(input.publicKey, 'probe');
    } catch (err) {
      if (err instanceof UnusableKeyError) throw AppException.validation([{ field: 'publicKey', rule: err.message }]);
      throw err;
    }
    const created = await this.bus.request(Contracts.accessTokensCreate, {
      actor: actorOf(caller),
      input: { userId: caller.userId, name: `latchkey CLI on ${input.host}`, expiresInDays: CLI_TOKEN_DAYS },
    });
    return { sealedToken: sealToCliKey(input.publicKey, created.token), tokenId: created.id, name: created.name, expiresAt: created.expiresAt };
  }
}
