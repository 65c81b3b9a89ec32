import { pendingStep } from './pending-progress';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
const watch = { createdAt: at(0), reminderIntervalMs: 60_000, reminderMax: 3, tierDueAt: [at(90), at(200)], remindersSent: 0, tiersReached: 0 };

describe('pendingStep', () => {
  it('nothing before the first reminder; the next look is the first reminder', () => {
    expect(pendingStep(watch, at(30))).toEqual({ reminder: null, newTiers: [], remindersSent: 0, tiersReached: 0, nextAt: at(60) });
  });

  it('a reminder when due, then the first tier next', () => {
    const s = pendingStep(watch, at(61));
    expect(s).toEqual({ reminder: 1, newTiers: [], remindersSent: 1, tiersReached: 0, nextAt: at(90) });
    expect(pendingStep({ ...watch, remindersSent: 1 }, at(61)).reminder).toBeNull();
  });

  it('reminders missed while down collapse into the latest; every tier reached is asked once', () => {
    const s = pendingStep(watch, at(250));
    expect(s).toMatchObject({ reminder: 3, newTiers: [1, 2], remindersSent: 3, tiersReached: 2, nextAt: null });
    expect(pendingStep({ ...watch, remindersSent: 3, tiersReached: 2 }, at(400))).toMatchObject({ reminder: null, newTiers: [], nextAt: null });
  });

  it('the count is bounded; no reminders when the flow sets none', () => {
    expect(pendingStep({ ...watch, tierDueAt: [] }, at(10_000))).toMatchObject({ reminder: 3, nextAt: null });
    expect(pendingStep({ ...watch, reminderIntervalMs: null, reminderMax: 0 }, at(100))).toMatchObject({ reminder: null, newTiers: [1], nextAt: at(200) });
  });
});
