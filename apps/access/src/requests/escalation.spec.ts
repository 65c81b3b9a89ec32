import { dueEscalationTier } from './access-request.entity';

const group = (ids: string[]) => ({ type: 'user' as const, values: [], source: null, approverIds: ids, approverEmails: [], satisfiedBy: null });
const limits = {
  maxDurationMinutes: 60,
  maxExtensions: 0,
  approverReasonRequired: false,
  escalation: [
    { afterMinutes: 10, dueAt: '2026-12-01T00:10:00.000Z', groups: [group(['boss'])] },
    { afterMinutes: 30, dueAt: '2026-12-01T00:30:00.000Z', groups: [group(['ceo', 'boss'])] },
  ],
};

describe('dueEscalationTier', () => {
  it('lets a tier decide only once it is due, naming the first tier that holds the person', () => {
    expect(dueEscalationTier(limits, 'boss', new Date('2026-12-01T00:09:59.999Z'))).toBeNull();
    expect(dueEscalationTier(limits, 'boss', new Date('2026-12-01T00:10:00.000Z'))).toBe(1);
    expect(dueEscalationTier(limits, 'ceo', new Date('2026-12-01T00:20:00.000Z'))).toBeNull();
    expect(dueEscalationTier(limits, 'ceo', new Date('2026-12-01T00:30:00.000Z'))).toBe(2);
    expect(dueEscalationTier(limits, 'someone', new Date('2027-01-01T00:00:00.000Z'))).toBeNull();
    expect(dueEscalationTier({ ...limits, escalation: undefined }, 'boss', new Date())).toBeNull();
  });
});
