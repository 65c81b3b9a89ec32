import { AccessFlow, AccessFlowInput, Caller, Resource } from '@latchkey/contracts';
import { planRequest } from './request-planner';

const I1 = '00000000-0000-4000-8000-0000000000a1';
const I2 = '00000000-0000-4000-8000-0000000000a2';
const caller: Caller = { userId: '00000000-0000-4000-8000-000000000001', email: 'ana@example.com', role: 'user', groups: ['analysts'], attributes: {} };
let n = 0;
const flow = (name: string, over: Record<string, unknown> = {}): AccessFlow => ({
  ...AccessFlowInput.parse({
    name,
    requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
    targets: [{ integrationId: I1, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
    approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
    maxDurationMinutes: 60,
    ...over,
  }),
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  createdAt: '',
  updatedAt: '',
});
const resource = (path: string, integrationId = I1): Resource => ({
  id: `00000000-0000-4000-9000-${String(++n).padStart(12, '0')}`,
  integrationId,
  type: 'postgresql-table',
  kind: 'table',
  path,
  parts: { name: path },
  owner: null,
  comment: null,
  tags: {},
  apiTags: {},
  permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'],
  managed: false,
  unrequestableReason: null,
  discoveredAt: '',
  updatedAt: '',
});
const now = new Date('2026-11-24T10:00:00Z');

describe('planRequest', () => {
  it('denies with every reason: no flow, duration, justification, requestors, timeframe', () => {
    const flows = [
      flow('short', { maxDurationMinutes: 30 }),
      flow('others', { requestors: { conditions: [{ type: 'group', match: 'is', values: ['ops'] }] } }),
      flow('nights', { timeframe: { days: ['SAT'], start: '00:00', end: '06:00', timeZone: 'UTC' } }),
    ];
    const plan = planRequest({
      caller,
      items: [
        { resource: resource('a/b/c'), permission: 'READ_ONLY' },
        { resource: resource('a/b/d'), permission: 'READ_WRITE' },
      ],
      durationMinutes: 45,
      justification: undefined,
      flows,
      now,
    });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.denials[0].reasons).toEqual(
      expect.arrayContaining([
        'duration 45 minutes is above the maximum 30 of flow "short"',
        'flow "short" requires a justification',
        'you are not among the requestors of flow "others"',
        'outside the timeframe of flow "nights" (SAT 00:00-06:00 UTC)',
      ]),
    );
    expect(plan.denials[1].reasons).toEqual(['no active access flow covers READ_WRITE on a/b/d']);
  });

  it('ignores inactive flows', () => {
    const plan = planRequest({
      caller,
      items: [{ resource: resource('a/b/c'), permission: 'READ_ONLY' }],
      durationMinutes: 10,
      justification: 'x',
      flows: [flow('off', { active: false })],
      now,
    });
    expect(plan.ok).toBe(false);
  });

  it('splits by flow and by integration, preferring the flow that covers most items, then automatic ones', () => {
    const wide = flow('wide', {
      targets: [
        { integrationId: I1, resourceType: 'postgresql-table', permissions: ['READ_ONLY', 'READ_WRITE'] },
        { integrationId: I2, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] },
      ],
    });
    const auto = flow('auto', { approvers: null });
    const a = resource('a/b/c');
    const b = resource('x/y/z', I2);
    const plan = planRequest({
      caller,
      items: [
        { resource: a, permission: 'READ_ONLY' },
        { resource: a, permission: 'READ_WRITE' },
        { resource: b, permission: 'READ_ONLY' },
      ],
      durationMinutes: 10,
      justification: 'x',
      flows: [auto, wide],
      now,
    });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.requests.map((r) => [r.flow.name, r.integrationId, r.items.length])).toEqual([
      ['wide', I1, 2],
      ['wide', I2, 1],
    ]);
    const single = planRequest({
      caller,
      items: [{ resource: a, permission: 'READ_ONLY' }],
      durationMinutes: 10,
      justification: 'x',
      flows: [flow('owner'), auto],
      now,
    });
    expect(single.ok && single.requests[0].flow.name).toBe('auto');
  });
});
