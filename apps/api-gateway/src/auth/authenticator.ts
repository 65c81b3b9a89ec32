import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Contracts, ErrorCode } from '@latchkey/contracts';
import { AppException, LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import type { AuthenticatedCaller } from './caller';

/** How long a positive answer of the access service is reused (AUTH_CACHE_SECONDS, in ms). */
export const AUTH_CACHE_MS = Symbol('AUTH_CACHE_MS');
/** Authentication fails fast when the access service does not answer: 503, not a hung request. */
const AUTHENTICATE_TIMEOUT_MS = 5000;
const MAX_CACHED = 10_000;
/** Longer than any token Latchkey issues or accepts as LATCHKEY_ADMIN_TOKEN: refused unhashed. */
const MAX_TOKEN_LENGTH = 1024;

interface Cached {
  caller: AuthenticatedCaller;
  /** The token's own expiry (ms), honoured even while cached. */
  expiresAt: number | null;
  until: number;
}

/**
 * Turns a bearer token into the caller behind it by asking the access service, sending only the
 * token's SHA-256. Positive answers are cached for AUTH_CACHE_SECONDS (default 5): a token revoked
 * or a user changed through another gateway replica keeps working here for at most that long;
 * through this one, at once (the HTTP controllers call `forgetToken`/`forgetUser`). A token's
 * expiry is checked here on every request, cached or not.
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
    const now = Date.now();
    const hit = this.cache.get(tokenHash);
    if (hit && hit.until > now && (hit.expiresAt === null || hit.expiresAt > now)) return hit.caller;
    if (hit) this.cache.delete(tokenHash);

    let answer;
    try {
      answer = await this.bus.request(Contracts.accessAuthAuthenticate, { tokenHash }, { timeoutMs: AUTHENTICATE_TIMEOUT_MS });
    } catch (err) {
      // The access service answered that it cannot check now (its database is down): pass that on as it is.
      if (err instanceof AppException && err.code === ErrorCode.ServiceUnavailable) throw err;
      this.logger.warn({ err }, 'authentication failed: the access service did not answer');
      throw new AppException(ErrorCode.ServiceUnavailable, 'Cannot check the API token now: the access service does not answer. Try again shortly.');
    }
    if (!answer) return null;
    const expiresAt = answer.expiresAt ? Date.parse(answer.expiresAt) : null;
    if (expiresAt !== null && expiresAt <= now) return null;
    const caller: AuthenticatedCaller = { ...answer.caller, tokenId: answer.tokenId };
    if (this.cacheMs > 0) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(tokenHash, { caller, expiresAt, until: now + this.cacheMs });
    }
    return caller;
  }

  /** A token revoked through this gateway stops working here at once. */
  forgetToken(tokenId: string): void {
    for (const [hash, entry] of this.cache) if (entry.caller.tokenId === tokenId) this.cache.delete(hash);
  }

  /** A user changed or deleted through this gateway is read afresh on their next request. */
  forgetUser(userId: string): void {
    for (const [hash, entry] of this.cache) if (entry.caller.userId === userId) this.cache.delete(hash);
  }
}
