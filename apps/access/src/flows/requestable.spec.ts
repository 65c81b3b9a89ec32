import type { AccessFlow, Resource } from '@latchkey/contracts';
import { describeApprovers, flowsOfferedTo, requestableItem, selectionsOf } from './requestable';

const INTEGRATION = '00000000-0000-4000-8000-000000000001';
const resource = (path: string, over: Partial<Resource> = {}): Resource => ({
  id: '00000000-0000-4000-8000-0000000000aa',
  integrationId: INTEGRATION,
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
  ...over,
});
const flow = (name: string, over: Partial<AccessFlow> = {}): AccessFlow => ({
  id: `00000000-0000-4000-8000-${name.padStart(12, '0')}`,
  name,
  active: true,
  requestors: { operator: 'OR', conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
  targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
  approvers: null,
  maxDurationMinutes: 60,
  timeframe: null,
  settings: { justificationRequired: true, approverReasonRequired: false, maxExtensions: 2, requesterCannotApprove: true },
  createdAt: '',
  updatedAt: '',
  ...over,
});
const analyst = { userId: '00000000-0000-4000-8000-000000000002', email: 'a@example.com', role: 'user' as const, groups: ['Analysts'], attributes: {} };

describe('what a flow offers on a resource', () => {
  it('keeps active flows whose requestors include the caller', () => {
    const flows = [flow('1'), flow('2', { active: false }), flow('3', { requestors: { operator: 'OR', conditions: [{ type: 'group', match: 'is', values: ['ops'] }] } })];
    expect(flowsOfferedTo(flows, analyst).map((f) => f.name)).toEqual(['1']);
  });

  it('hands discovery the targets without their permissions', () => {
    const selector = { mode: 'include' as const, by: 'name' as const, values: ['db/*'] };
    expect(selectionsOf([flow('1', { targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['ADMIN'], resources: selector }] })])).toEqual([
      { integrationId: INTEGRATION, resourceType: 'postgresql-table', resources: selector },
    ]);
  });

  it('offers only permissions both the flow and the resource have, and nothing for managed roles', () => {
    const adminFlow = flow('1', { targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY', 'ADMIN'] }] });
    expect(requestableItem(resource('db/s/t'), [adminFlow], undefined, new Date())!.permissions).toEqual(['READ_ONLY', 'ADMIN']);
    expect(requestableItem(resource('db/s/t', { permissions: ['READ_ONLY'] }), [adminFlow], undefined, new Date())!.flows[0].permissions).toEqual(['READ_ONLY']);
    expect(requestableItem(resource('db/s/t', { permissions: [] }), [adminFlow], undefined, new Date())).toBeNull();
    expect(requestableItem(resource('db/s/t', { integrationId: '00000000-0000-4000-8000-000000000009' }), [adminFlow], undefined, new Date())).toBeNull();
  });

  it('says when a time-framed flow is closed now', () => {
    const frame = { days: ['MON' as const], start: '09:00', end: '10:00', timeZone: 'UTC' };
    const item = requestableItem(resource('db/s/t'), [flow('1', { timeframe: frame })], undefined, new Date('2026-12-01T12:00:00Z'))!;
    expect(item.flows[0]).toMatchObject({ timeframe: 'MON 09:00-10:00 UTC', availableNow: false });
  });

  it('describes approvers in words, owners through the tag that picks them', () => {
    const integration = { integrationOwners: [{ attribute: 'group', values: ['dba'] }], resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }] };
    const owner = { mode: 'ANY_OF' as const, groups: [{ type: 'OWNER' as const }] };
    expect(describeApprovers(null, resource('x'), integration)).toBe('automatic (no approval needed)');
    expect(describeApprovers(owner, resource('x', { tags: { owner: 'payments' } }), integration)).toBe('any of: resource owner (tag owner=payments)');
    expect(describeApprovers(owner, resource('x'), integration)).toBe('any of: integration owner (group dba)');
    expect(describeApprovers({ mode: 'ALL_OF', groups: [{ type: 'user', values: ['a@x.io', 'b@x.io'] }, { type: 'group', values: ['sec'] }] }, resource('x'), integration)).toBe(
      'all of: user a@x.io, b@x.io; group sec',
    );
  });
});
