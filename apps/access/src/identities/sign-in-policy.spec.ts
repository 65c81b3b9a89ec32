import { liveSince, retryAfterMs, retryAfterSeconds, sessionDeadlines } from './sign-in-policy';

const MIN = 60_000;
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 12, 0) + minutes * MIN);

describe('session deadlines', () => {
  const policy = { idleMs: 60 * MIN, maxMs: 12 * 60 * MIN };

  it('moves the idle deadline with each use, never past the absolute one', () => {
    expect(sessionDeadlines(policy, at(0), at(0))).toEqual({ expiresAt: at(720), idleExpiresAt: at(60) });
    expect(sessionDeadlines(policy, at(0), at(100))).toEqual({ expiresAt: at(720), idleExpiresAt: at(160) });
    expect(sessionDeadlines(policy, at(0), at(700))).toEqual({ expiresAt: at(720), idleExpiresAt: at(720) });
  });

  it('is live while created within the maximum and used within the idle time', () => {
    const live = liveSince(policy, at(750));
    expect(live).toEqual({ createdAfter: at(30), seenAfter: at(690) });
    // Created at 0: past the absolute limit at 750, however recently used.
    expect(at(0) > live.createdAfter).toBe(false);
    expect(at(40) > live.createdAfter && at(700) > live.seenAfter).toBe(true);
  });
});

describe('sign-in throttle window', () => {
  const rule = { limit: 3, windowMs: 15 * MIN };

  it('allows attempts below the limit', () => {
    expect(retryAfterMs([], rule, at(0))).toBeNull();
    expect(retryAfterMs([at(-1), at(-2)], rule, at(0))).toBeNull();
  });

  it('refuses at the limit until the limit-th newest failure leaves the window', () => {
    // Newest first: the third newest (at -10) leaves the window at +5.
    expect(retryAfterMs([at(-1), at(-2), at(-10)], rule, at(0))).toBe(5 * MIN);
    expect(retryAfterMs([at(-1), at(-2), at(-10), at(-11)], rule, at(0))).toBe(5 * MIN);
  });

  it('forgets failures older than the window', () => {
    expect(retryAfterMs([at(-1), at(-2), at(-15)], rule, at(0))).toBeNull();
    expect(retryAfterMs([at(-1), at(-2), at(-14.99)], rule, at(0))).toBeGreaterThan(0);
  });

  it('says Retry-After in whole seconds, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(5 * MIN)).toBe(300);
  });
});
