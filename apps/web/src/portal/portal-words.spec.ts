import type { ResolvedApproverGroup } from '@latchkey/contracts';
import { connectionUri, countdown, duration, requestWarnings, timeline, whyApprover } from './portal-words';
import type { PortalRequest } from './portal-words';

const group = (over: Partial<ResolvedApproverGroup>): ResolvedApproverGroup => ({
  type: 'group',
  values: ['dba'],
  source: null,
  approverIds: ['u-ada'],
  approverEmails: ['ada@x.io'],
  satisfiedBy: null,
  ...over,
});

const request = (over: Partial<PortalRequest> = {}): PortalRequest => ({
  id: '00000000-0000-4000-8000-000000000001',
  status: 'PENDING',
  requesterId: 'u-rita',
  requesterEmail: 'rita@x.io',
  flowId: '00000000-0000-4000-8000-000000000002',
  flowName: 'analysts',
  integrationId: '00000000-0000-4000-8000-000000000003',
  items: [{ resourceId: '00000000-0000-4000-8000-000000000004', permission: 'READ_ONLY', resourceType: 'postgresql-table', path: 'shop/sales/invoices' }],
  justification: 'report',
  durationMinutes: 30,
  approvalMode: 'ANY_OF',
  approverGroups: [group({})],
  approvals: [],
  createdAt: '2026-12-01T10:00:00.000Z',
  grantedAt: null,
  expiresAt: null,
  endedAt: null,
  extensions: 0,
  grantId: null,
  statusReason: null,
  passwordViewedAt: null,
  failureReason: null,
  pendingExpiresAt: null,
  warnings: [],
  ...over,
});

describe('portal words', () => {
  it('counts down to expiry in hours, minutes and seconds, and says when it ended', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(countdown('2026-12-01T10:04:09Z', now)).toBe('4 min 09 s');
    expect(countdown('2026-12-01T11:05:00Z', now)).toBe('1 h 05 min 00 s');
    expect(countdown('2026-12-03T12:00:00Z', now)).toBe('2 d 2 h 00 min');
    expect(countdown('2026-12-01T09:59:59Z', now)).toBe('ended');
  });

  it('says durations as people do', () => {
    expect(duration(30)).toBe('30 minutes');
    expect(duration(60)).toBe('1 hour');
    expect(duration(1441)).toBe('1 day 1 minute');
  });

  it('tells an approver why they were chosen: named user, group, owner with its source', () => {
    const r = request({
      approverGroups: [
        group({ type: 'user', values: ['ada@x.io'] }),
        group({ type: 'OWNER', values: [], source: 'shop/sales/invoices: tag owner=data-team -> group' }),
        group({ approverIds: ['u-other'] }),
      ],
    });
    expect(whyApprover(r, 'u-ada')).toBe('You are asked as named approver ada@x.io; owner (shop/sales/invoices: tag owner=data-team -> group)');
    expect(whyApprover(r, 'u-admin')).toBe('You are asked as an administrator');
  });

  it('says when an escalation tier asks the approver', () => {
    const tier = (afterMinutes: number, id: string) => ({
      afterMinutes,
      dueAt: '2026-12-01T00:00:00.000Z',
      groups: [group({ type: 'user', values: [`${id}@x.io`], approverIds: [id], approverEmails: [`${id}@x.io`] })],
    });
    const r = request({
      flowLimits: { maxDurationMinutes: 60, maxExtensions: 0, approverReasonRequired: false, escalation: [tier(30, 'u-eve'), tier(120, 'u-max')] },
    });
    expect(whyApprover(r, 'u-max')).toBe('You are asked as escalation tier 2 (nobody decided within 2 hours)');
    expect(whyApprover(r, 'u-ada')).toBe('You are asked as member of group dba');
  });

  it('warns when an approver group resolves to nobody, unless the API already said so', () => {
    expect(requestWarnings(request())).toEqual([]);
    expect(requestWarnings(request({ approverGroups: [group({ approverIds: [], approverEmails: [] })] }))[0]).toContain(
      'No one can approve for member of group dba',
    );
    expect(requestWarnings(request({ warnings: [{ field: 'approvers', message: 'group dba has no members' }] }))).toEqual(['group dba has no members']);
  });

  it('builds the connection URI without a password, escaping names', () => {
    expect(connectionUri({ host: 'db.internal', port: 5433, database: 'my db', username: 'lk_rita', sslmode: 'require' })).toBe(
      'postgresql://lk_rita@db.internal:5433/my%20db?sslmode=require',
    );
    expect(connectionUri({ host: '::1', port: 5432, database: 'shop', username: 'u@x', sslmode: 'disable' })).toBe(
      'postgresql://u%40x@[::1]:5432/shop?sslmode=disable',
    );
  });

  it('tells the story in order: requested, decided with the reason, granted, revoked by whom', () => {
    const r = request({
      status: 'REVOKED',
      approvals: [{ userId: 'u-ada', email: 'ada@x.io', decision: 'APPROVED', reason: 'ok', at: '2026-12-01T10:01:00.000Z', asAdmin: false }],
      grantedAt: '2026-12-01T10:01:05.000Z',
      endedAt: '2026-12-01T10:10:00.000Z',
      revokedBy: { type: 'user', id: 'u-rita', email: 'rita@x.io' },
    });
    expect(timeline(r).map((e) => e.what)).toEqual(['Requested by rita@x.io', 'Approved by ada@x.io: ok', 'Granted', 'Revoked by rita@x.io']);
  });
});
