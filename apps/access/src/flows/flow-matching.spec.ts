import { AccessFlowInput, Caller, Resource } from '@latchkey/contracts';
import { globToRegExp, inTimeframe, requestorMatches, targetCovers } from './flow-matching';

const caller: Caller = {
  userId: '00000000-0000-4000-8000-000000000001',
  email: 'Ana@Example.com',
  role: 'user',
  groups: ['analysts', 'eu-staff'],
  attributes: { team: 'data' },
};
const flow = (requestors: unknown) =>
  AccessFlowInput.parse({
    name: 'f',
    requestors,
    targets: [{ integrationId: '00000000-0000-4000-8000-0000000000aa', resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
    approvers: null,
    maxDurationMinutes: 60,
  });
const INTEGRATION = '00000000-0000-4000-8000-0000000000aa';
const table: Pick<Resource, 'id' | 'integrationId' | 'type' | 'path' | 'tags'> = {
  id: '00000000-0000-4000-8000-0000000000bb',
  integrationId: INTEGRATION,
  type: 'postgresql-table',
  path: 'app/billing/invoices',
  tags: { owner: 'data-team', pii: 'yes' },
};

describe('requestorMatches', () => {
  it.each([
    [{ conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] }, true],
    [{ conditions: [{ type: 'group', match: 'is', values: ['admins'] }] }, false],
    [{ conditions: [{ type: 'group', match: 'is_not', values: ['contractors'] }] }, true],
    [{ conditions: [{ type: 'group', match: 'is_not', values: ['analysts'] }] }, false],
    [{ conditions: [{ type: 'group', match: 'starts_with', values: ['eu-'] }] }, true],
    [{ conditions: [{ type: 'user', match: 'is', values: ['ana@example.com'] }] }, true],
    [{ conditions: [{ type: 'user', match: 'contains', values: ['@example.com'] }] }, true],
    [{ conditions: [{ type: 'attribute', attribute: 'team', match: 'is', values: ['data'] }] }, true],
    [{ conditions: [{ type: 'attribute', attribute: 'manager', match: 'is', values: ['x'] }] }, false],
    [{ conditions: [{ type: 'attribute', attribute: 'manager', match: 'is_not', values: ['x'] }] }, true],
    [
      {
        operator: 'AND',
        conditions: [
          { type: 'group', match: 'is', values: ['analysts'] },
          { type: 'attribute', attribute: 'team', match: 'is', values: ['ops'] },
        ],
      },
      false,
    ],
    [
      {
        operator: 'OR',
        conditions: [
          { type: 'group', match: 'is', values: ['nobody'] },
          { type: 'attribute', attribute: 'team', match: 'is', values: ['data'] },
        ],
      },
      true,
    ],
  ])('%j -> %s', (requestors, expected) => {
    expect(requestorMatches(flow(requestors), caller)).toBe(expected);
  });
});

describe('targetCovers', () => {
  const target = (resources?: unknown, permissions = ['READ_ONLY']) => ({
    integrationId: INTEGRATION,
    resourceType: 'postgresql-table' as const,
    permissions: permissions as ['READ_ONLY'],
    resources: resources as never,
  });
  it('needs the integration, type and permission', () => {
    expect(targetCovers(target(), table, 'READ_ONLY')).toBe(true);
    expect(targetCovers(target(), table, 'READ_WRITE')).toBe(false);
    expect(targetCovers({ ...target(), integrationId: '00000000-0000-4000-8000-0000000000cc' }, table, 'READ_ONLY')).toBe(false);
    expect(targetCovers({ ...target(), resourceType: 'postgresql-schema' }, table, 'READ_ONLY')).toBe(false);
  });
  it('selects by name glob, id and tag, including or excluding', () => {
    expect(targetCovers(target({ mode: 'include', by: 'name', values: ['app/billing/*'] }), table, 'READ_ONLY')).toBe(true);
    expect(targetCovers(target({ mode: 'include', by: 'name', values: ['app/billing'] }), table, 'READ_ONLY')).toBe(false);
    expect(targetCovers(target({ mode: 'exclude', by: 'name', values: ['*/invoices'] }), table, 'READ_ONLY')).toBe(false);
    expect(targetCovers(target({ mode: 'include', by: 'id', values: [table.id.toUpperCase()] }), table, 'READ_ONLY')).toBe(true);
    expect(targetCovers(target({ mode: 'include', by: 'tag', key: 'owner', values: ['data-*'] }), table, 'READ_ONLY')).toBe(true);
    expect(targetCovers(target({ mode: 'exclude', by: 'tag', key: 'pii', values: ['yes'] }), table, 'READ_ONLY')).toBe(false);
    expect(targetCovers(target({ mode: 'exclude', by: 'tag', key: 'secret', values: ['*'] }), table, 'READ_ONLY')).toBe(true);
  });
  it('treats regular-expression characters in names literally', () => {
    expect(globToRegExp('a.b(c)*').test('a.b(c)/x')).toBe(true);
    expect(globToRegExp('a.b').test('aXb')).toBe(false);
    expect(globToRegExp('sch?ma/"x;y"').test('schema/"x;y"')).toBe(true);
  });
});

describe('inTimeframe', () => {
  const weekdays = { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'] as const, start: '09:00', end: '17:00', timeZone: 'Europe/Paris' };
  it('uses the time zone of the frame', () => {
    // Tuesday 2026-11-24 08:30 UTC is 09:30 in Paris.
    expect(inTimeframe({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-24T08:30:00Z'))).toBe(true);
    expect(inTimeframe({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-24T07:30:00Z'))).toBe(false);
    expect(inTimeframe({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-24T16:00:00Z'))).toBe(false);
    // Saturday.
    expect(inTimeframe({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-28T10:00:00Z'))).toBe(false);
  });
  it('spans midnight when the end is before the start', () => {
    const night = { days: ['FRI' as const], start: '22:00', end: '02:00', timeZone: 'UTC' };
    expect(inTimeframe(night, new Date('2026-11-27T23:00:00Z'))).toBe(true);
    expect(inTimeframe(night, new Date('2026-11-28T01:00:00Z'))).toBe(true);
    expect(inTimeframe(night, new Date('2026-11-28T03:00:00Z'))).toBe(false);
    expect(inTimeframe(night, new Date('2026-11-27T01:00:00Z'))).toBe(false);
  });
});
