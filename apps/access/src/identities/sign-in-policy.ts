/** How long sessions live: unused for `idleMs`, or `maxMs` after sign-in, whichever comes first. */
export interface SessionPolicy {
  idleMs: number;
  maxMs: number;
}

/** At most `limit` failures within `windowMs`. */
export interface ThrottleRule {
  limit: number;
  windowMs: number;
}

/**
 * A session's deadlines from when it was created and last used, under today's policy: shortening
 * SESSION_MAX_HOURS or SESSION_IDLE_MINUTES applies to open sessions too.
 */
export function sessionDeadlines(policy: SessionPolicy, createdAt: Date, lastSeenAt: Date): { expiresAt: Date; idleExpiresAt: Date } {
  const expiresAt = new Date(createdAt.getTime() + policy.maxMs);
  const idleExpiresAt = new Date(Math.min(lastSeenAt.getTime() + policy.idleMs, expiresAt.getTime()));
  return { expiresAt, idleExpiresAt };
}

/** A session is live at `now` when it was created after `createdAfter` and last used after `seenAfter`. */
export function liveSince(policy: SessionPolicy, now: Date): { createdAfter: Date; seenAfter: Date } {
  return { createdAfter: new Date(now.getTime() - policy.maxMs), seenAfter: new Date(now.getTime() - policy.idleMs) };
}

/**
 * How long until one more attempt is allowed, or null when one is allowed now. `recent` holds the
 * failure times, newest first (at least `limit` of them when there are that many): once the
 * `limit`-th newest leaves the window, the count drops below the limit.
 */
export function retryAfterMs(recent: readonly Date[], rule: ThrottleRule, now: Date): number | null {
  const inWindow = recent.filter((at) => now.getTime() - at.getTime() < rule.windowMs);
  if (inWindow.length < rule.limit) return null;
  return inWindow[rule.limit - 1].getTime() + rule.windowMs - now.getTime();
}

/** Retry-After in whole seconds, never 0. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
