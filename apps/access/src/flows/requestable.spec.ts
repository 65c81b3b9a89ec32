import { expandRequestablePage } from '@latchkey/contracts';
import type { AccessFlow, Resource } from '@latchkey/contracts';
import { describeApprovers, flowsOfferedTo, offersOf, ownerIntegrationsOf, selectionsOf } from './requestable';

type Owners = Parameters<ReturnType<typeof offersOf>['offer']>[1];
/** One resource as the API answers it. */
const requestableItem = (r: Resource, flows: AccessFlow[], integration: Owners, now: Date) => {
  const page = offersOf(flows, now);
  const entry = page.offer(r, integration);
  return entry && expandRequestablePage({ flows: page.flows, items: [entry] }).items[0];
};

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
    const flows = [
      flow('1'),
      flow('2', { active: false }),
      flow('3', { requestors: { operator: 'OR', conditions: [{ type: 'group', match: 'is', values: ['ops'] }] } }),
    ];
    expect(flowsOfferedTo(flows, analyst).map((f) => f.name)).toEqual(['1']);
  });

  it('hands discovery the targets without their permissions', () => {
    const selector = { mode: 'include' as const, by: 'name' as const, values: ['db/*'] };
    expect(
      selectionsOf([flow('1', { targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['ADMIN'], resources: selector }] })]),
    ).toEqual([{ integrationId: INTEGRATION, resourceType: 'postgresql-table', resources: selector }]);
    // The same target in many flows goes once.
    const same = (name: string) =>
      flow(name, { targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: selector }] });
    expect(selectionsOf([same('1'), same('2'), flow('3')])).toEqual([
      { integrationId: INTEGRATION, resourceType: 'postgresql-table', resources: selector },
      { integrationId: INTEGRATION, resourceType: 'postgresql-table' },
    ]);
  });

  it('needs the settings of an integration only where a flow is approved by owners', () => {
    const elsewhere = '00000000-0000-4000-8000-000000000007';
    const owner = { mode: 'ANY_OF' as const, groups: [{ type: 'OWNER' as const }] };
    const flows = [
      flow('1'),
      flow('2', { approvers: owner, targets: [{ integrationId: elsewhere, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }] }),
    ];
    expect(ownerIntegrationsOf(flows)).toEqual([elsewhere]);
    expect(ownerIntegrationsOf([flow('1')])).toEqual([]);
  });

  it('writes each flow once per page, with what differs per resource (owners), flows by name', () => {
    const integration = { integrationOwners: [{ attribute: 'group', values: ['dba'] }], resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }] };
    const flows = [
      flow('b', { approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] } }),
      flow('a', {
        approvers: { mode: 'ALL_OF', groups: [{ type: 'group', values: ['sec'] }] },
        targets: [
          {
            integrationId: INTEGRATION,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: { mode: 'include', by: 'name', values: ['db/s/?'] },
          },
        ],
      }),
    ];
    const now = new Date('2026-12-01T12:00:00Z');
    const page = offersOf(flows, now);
    // Each flow written once, in name order; a resource names them by place, with its own owner.
    expect(page.flows.map((f) => [f.name, f.approvers])).toEqual([
      ['a', 'all of: group sec'],
      ['b', 'the resource owner'],
    ]);
    const resources = [resource('db/s/t', { tags: { owner: 'payments' } }), resource('db/s/tt'), resource('db/s/u', { permissions: [] })];
    const entries = resources.map((r) => page.offer(r, integration));
    expect(entries.map((e) => e && e.offers)).toEqual([
      [0, { flow: 1, permissions: ['READ_ONLY'], approvers: 'any of: resource owner (tag owner=payments)' }],
      [{ flow: 1, permissions: ['READ_ONLY'], approvers: 'any of: integration owner (group dba)' }],
      null,
    ]);
    // A flow that offers fewer permissions than the resource's union says which.
    const wide = flow('c', { targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY', 'ADMIN'] }] });
    const mixed = offersOf([flows[1], wide], now).offer(resources[0], integration)!;
    expect(mixed).toMatchObject({ permissions: ['READ_ONLY', 'ADMIN'], offers: [{ flow: 0, permissions: ['READ_ONLY'] }, 1] });
    expect(expandRequestablePage({ flows: offersOf([flows[1], wide], now).flows, items: [mixed] }).items[0].flows.map((f) => [f.name, f.permissions])).toEqual([
      ['a', ['READ_ONLY']],
      ['c', ['READ_ONLY', 'ADMIN']],
    ]);
    // The API's form writes each flow out on the resource.
    const items = expandRequestablePage({ flows: page.flows, items: entries.filter((e) => e !== null) }).items;
    expect(items[0].flows.map((f) => [f.name, f.approvers, f.permissions])).toEqual([
      ['a', 'all of: group sec', ['READ_ONLY']],
      ['b', 'any of: resource owner (tag owner=payments)', ['READ_ONLY']],
    ]);
  });

  it('offers only permissions both the flow and the resource have, and nothing for managed roles', () => {
    const adminFlow = flow('1', { targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY', 'ADMIN'] }] });
    expect(requestableItem(resource('db/s/t'), [adminFlow], undefined, new Date())!.permissions).toEqual(['READ_ONLY', 'ADMIN']);
    expect(requestableItem(resource('db/s/t', { permissions: ['READ_ONLY'] }), [adminFlow], undefined, new Date())!.flows[0].permissions).toEqual([
      'READ_ONLY',
    ]);
    expect(requestableItem(resource('db/s/t', { permissions: [] }), [adminFlow], undefined, new Date())).toBeNull();
    expect(requestableItem(resource('db/s/t', { integrationId: '00000000-0000-4000-8000-000000000009' }), [adminFlow], undefined, new Date())).toBeNull();
  });

  it('gives flows sharing a target, and a flow of several targets, what each target covers', () => {
    const byName = { mode: 'include' as const, by: 'name' as const, values: ['db/sales/*'] };
    const noPii = { mode: 'exclude' as const, by: 'tag' as const, key: 'pii', values: ['*'] };
    const target = (permissions: AccessFlow['targets'][number]['permissions'], resources?: typeof byName | typeof noPii) => ({
      integrationId: INTEGRATION,
      resourceType: 'postgresql-table' as const,
      permissions,
      ...(resources ? { resources } : {}),
    });
    const flows = [
      flow('a', { targets: [target(['READ_ONLY'], byName)] }),
      flow('b', { targets: [target(['READ_ONLY'], byName)] }),
      flow('c', { targets: [target(['READ_WRITE'], noPii), target(['ADMIN'], byName)] }),
      flow('d', { targets: [target(['READ_ONLY'], noPii)] }),
    ];
    const offered = (r: Resource) => requestableItem(r, flows, undefined, new Date())?.flows.map((f) => [f.name, f.permissions]) ?? null;
    expect(offered(resource('db/sales/orders'))).toEqual([
      ['a', ['READ_ONLY']],
      ['b', ['READ_ONLY']],
      ['c', ['READ_WRITE', 'ADMIN']],
      ['d', ['READ_ONLY']],
    ]);
    expect(offered(resource('db/sales/cards', { tags: { pii: 'yes' } }))).toEqual([
      ['a', ['READ_ONLY']],
      ['b', ['READ_ONLY']],
      ['c', ['ADMIN']],
    ]);
    expect(offered(resource('db/hr/people', { tags: { pii: 'yes' } }))).toBeNull();
    expect(offered(resource('db/hr/rooms'))).toEqual([
      ['c', ['READ_WRITE']],
      ['d', ['READ_ONLY']],
    ]);
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
    expect(
      describeApprovers(
        {
          mode: 'ALL_OF',
          groups: [
            { type: 'user', values: ['a@x.io', 'b@x.io'] },
            { type: 'group', values: ['sec'] },
          ],
        },
        resource('x'),
        integration,
      ),
    ).toBe('all of: user a@x.io, b@x.io; group sec');
  });
});
