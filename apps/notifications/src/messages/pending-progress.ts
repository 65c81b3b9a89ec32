/** A pending request's reminder and escalation state, as kept in notifications.pending_watch. */
export interface PendingWatch {
  createdAt: Date;
  reminderIntervalMs: number | null;
  reminderMax: number;
  tierDueAt: Date[];
  remindersSent: number;
  tiersReached: number;
}

export interface PendingStep {
  /** The reminder to send now (1-based), or null; reminders missed while down collapse into the latest. */
  reminder: number | null;
  /** The escalation tiers (1-based) reached since the last look. */
  newTiers: number[];
  remindersSent: number;
  tiersReached: number;
  /** When to look again; null when nothing more will come. */
  nextAt: Date | null;
}

/** What is due for a pending request at `now`, and when the next thing is. */
export function pendingStep(w: PendingWatch, now: Date): PendingStep {
  const elapsed = now.getTime() - w.createdAt.getTime();
  const interval = w.reminderIntervalMs;
  const dueReminders = interval ? Math.min(w.reminderMax, Math.max(0, Math.floor(elapsed / interval))) : 0;
  const reminder = dueReminders > w.remindersSent ? dueReminders : null;
  const remindersSent = Math.max(w.remindersSent, dueReminders);
  const tiersReached = Math.max(w.tiersReached, w.tierDueAt.filter((d) => d.getTime() <= now.getTime()).length);
  const newTiers = Array.from({ length: tiersReached - w.tiersReached }, (_, i) => w.tiersReached + i + 1);
  const candidates: number[] = [];
  if (interval && remindersSent < w.reminderMax) candidates.push(w.createdAt.getTime() + (remindersSent + 1) * interval);
  if (tiersReached < w.tierDueAt.length) candidates.push(w.tierDueAt[tiersReached].getTime());
  return { reminder, newTiers, remindersSent, tiersReached, nextAt: candidates.length ? new Date(Math.min(...candidates)) : null };
}
