/**
 * The wait before the attempt after `attemptsMade` failed ones, from WEBHOOK_RETRY_SCHEDULE (the
 * wait before each attempt, in seconds), with up to ±10% jitter so that receivers coming back are
 * not hit by every sender at once; null when the schedule is used up (dead-letter).
 */
export function nextDelayMs(schedule: readonly number[], attemptsMade: number, random: () => number = Math.random): number | null {
  if (attemptsMade >= schedule.length) return null;
  const base = schedule[attemptsMade] * 1000;
  return Math.round(base * (0.9 + 0.2 * random()));
}

/** Only 2xx counts as delivered. */
export const isSuccess = (statusCode: number | null) => statusCode !== null && statusCode >= 200 && statusCode < 300;
