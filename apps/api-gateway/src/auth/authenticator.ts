import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppException, Contracts, ErrorCode } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import type { AuthenticatedCaller } from './caller';
import { csrfTokenFor, sessionHash } from './session-cookie';

/** How long a positive answer of the access service is reused (AUTH_CACHE_SECONDS, in ms). */
export const AUTH_CACHE_MS = Symbol('AUTH_CACHE_MS');
/** Authentication fails fast when the access service does not answer: 503, not a hung request. */
const AUTHENTICATE_TIMEOUT_MS = 5000;
const MAX_CACHED = 10_000;
/** Longer than any token Latchkey issues or accepts as LATCHKEY_ADMIN_TOKEN: refused unhashed. */
const MAX_TOKEN_LENGTH = 1024;
/** Session entries share the cache with token entries; their keys cannot collide. */
const SESSION_KEY = (hash: string) => `session:${hash}`;

interface Cached {
  caller: AuthenticatedCaller;
  /** The credential's own deadline (ms), honoured even while cached. */
  expiresAt: number | null;
  until: number;
}

/**
 * Turns a bearer token or a session cookie into the caller behind it by asking the access service,
 * sending only the SHA-256 of the secret. Positive answers are cached for AUTH_CACHE_SECONDS
 * (default 5): a token revoked, a session ended or a user changed through another gateway replica
 * keeps working here for at most that long; through this one, at once (the HTTP controllers call
 * `forgetToken`/`forgetSession`/`forgetUser`). Expiry is checked here on every request, cached or not.
 */
@Injectable()
export class Authenticator {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly bus: MessageBus,
    @Inject(AUTH_CACHE_MS) private readonly cacheMs: number,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /** The caller, or null for a token that is unknown, revoked, expired or whose user is gone. */
  async authenticate(token: string): Promise<AuthenticatedCaller | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const tokenHash = createHash('sha256').update(token, 'utf8').digest('hex');
    return this.cached(tokenHash, 'the API token', async () => {
      const answer = await this.bus.request(Contracts.accessAuthAuthenticate, { tokenHash }, { timeoutMs: AUTHENTICATE_TIMEOUT_MS });
      if (!answer) return null;
      return { caller: { ...answer.caller, tokenId: answer.tokenId }, expiresAt: answer.expiresAt ? Date.parse(answer.expiresAt) : null };
    });
  }

  /** The caller behind a session cookie's id, or null when the session ended, expired or never was. */
  async authenticateSession(sessionId: string): Promise<AuthenticatedCaller | null> {
    const hash = sessionHash(sessionId);
    return this.cached(SESSION_KEY(hash), 'the session', async () => {
      const answer = await this.bus.request(Contracts.accessSessionsAuthenticate, { sessionHash: hash }, { timeoutMs: AUTHENTICATE_TIMEOUT_MS });
      if (!answer) return null;
      const { caller, name, sessionId: id, expiresAt, idleExpiresAt } = answer;
      // Uses answered from the cache do not move the idle deadline: cache at most half of what is
      // left of it, so a session in use is asked about (and kept alive) before it could lapse.
      const now = Date.now();
      return {
        caller: { ...caller, session: { id, hash, csrfToken: csrfTokenFor(sessionId), name, expiresAt, idleExpiresAt } },
        expiresAt: Math.min(Date.parse(expiresAt), now + (Date.parse(idleExpiresAt) - now) / 2),
      };
    });
  }

  private async cached(
    key: string,
    what: string,
    ask: () => Promise<{ caller: AuthenticatedCaller; expiresAt: number | null } | null>,
  ): Promise<AuthenticatedCaller | null> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now && (hit.expiresAt === null || hit.expiresAt > now)) return hit.caller;
    if (hit) this.cache.delete(key);

    let answer;
    try {
      answer = await ask();
    } catch (err) {
      // The access service answered that it cannot check now (its database is down): pass that on as it is.
      if (err instanceof AppException && err.code === ErrorCode.ServiceUnavailable) throw err;
      this.logger.warn({ err }, 'authentication failed: the access service did not answer');
      throw new AppException(ErrorCode.ServiceUnavailable, `Cannot check ${what} now: the access service does not answer. Try again shortly.`);
    }
    if (!answer) return null;
    if (answer.expiresAt !== null && answer.expiresAt <= now) return null;
    if (this.cacheMs > 0) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { caller: answer.caller, expiresAt: answer.expiresAt, until: now + this.cacheMs });
    }
    return answer.caller;
  }

  /** A token revoked through this gateway stops working here at once. */
  forgetToken(tokenId: string): void {
    for (const [key, entry] of this.cache) if (entry.caller.tokenId === tokenId) this.cache.delete(key);
  }

  /** A session ended through this gateway stops working here at once. */
  forgetSession(hash: string): void {
    this.cache.delete(SESSION_KEY(hash));
  }

  /** Group memberships changed (SCIM): every caller is read afresh on their next request. */
  forgetAll(): void {
    this.cache.clear();
  }

  /** A user changed or deleted through this gateway is read afresh on their next request (tokens and sessions). */
  forgetUser(userId: string): void {
    for (const [key, entry] of this.cache) if (entry.caller.userId === userId) this.cache.delete(key);
  }
}
