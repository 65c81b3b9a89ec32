import type { AccessRequest } from '@latchkey/contracts';
import { emailRecipients, eventTypeOf, passesFilters, personalChannels, requestEventData } from './event-data';
import { personalSlackMessage, renderEmail, slackMessage } from './render';

const request: AccessRequest & { id: string } = {
  id: '11111111-1111-4111-8111-111111111111',
  status: 'PENDING',
  requesterId: '22222222-2222-4222-8222-222222222222',
  requesterEmail: 'ana@example.com',
  flowId: '33333333-3333-4333-8333-333333333333',
  flowName: 'analysts read',
  integrationId: '44444444-4444-4444-8444-444444444444',
  items: [{ resourceId: '55555555-5555-4555-8555-555555555555', permission: 'READ_ONLY', resourceType: 'postgresql-table', path: 'app/billing/invoices' }],
  justification: 'ticket <42>',
  durationMinutes: 60,
  approvalMode: 'ANY_OF',
  approverGroups: [
    { type: 'group', values: ['data-team'], source: null, approverIds: ['a', 'b'], approverEmails: ['dana@example.com', 'bo@example.com'], satisfiedBy: null },
    {
      type: 'OWNER',
      values: [],
      source: 'app/billing/invoices: tag owner=dana -> user',
      approverIds: ['a'],
      approverEmails: ['dana@example.com'],
      satisfiedBy: null,
    },
  ],
  approvals: [],
  createdAt: '2026-12-01T00:00:00.000Z',
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
};

describe('what an event says and to whom', () => {
  const data = requestEventData(request, 'https://latchkey.example.com/');

  it('maps audit actions to event types; an ALL_OF approval that leaves groups waiting asks the next group', () => {
    expect(eventTypeOf({ action: 'request.created', targetType: 'access-request', details: {} })).toBe('access_request.created');
    expect(eventTypeOf({ action: 'request.approved', targetType: 'access-request', details: { complete: false } })).toBe('access_request.partially_approved');
    expect(eventTypeOf({ action: 'request.approved', targetType: 'access-request', details: { complete: true } })).toBe('access_request.approved');
    expect(eventTypeOf({ action: 'request.credentials-viewed', targetType: 'access-request', details: {} })).toBeNull();
    expect(eventTypeOf({ action: 'integration.updated', targetType: 'integration', details: {} })).toBeNull();
  });

  it('asks each approver once, with every reason, and never the requester', () => {
    const to = emailRecipients('access_request.created', {
      ...data,
      approvers: [...data.approvers, { type: 'user', values: ['ana@example.com'], source: null, emails: ['ana@example.com'], satisfiedBy: null }],
    });
    expect(to.map((r) => r.email).sort()).toEqual(['bo@example.com', 'dana@example.com']);
    const dana = to.find((r) => r.email === 'dana@example.com')!;
    expect(dana.reasons).toHaveLength(2);
    expect(dana.reasons[0]).toContain('"data-team"');
    expect(dana.reasons[1]).toContain('tag owner=dana');
  });

  it('tells the requester of a grant, with the Connect link and no password', () => {
    const granted = requestEventData({ ...request, status: 'GRANTED', expiresAt: '2026-12-01T01:00:00.000Z' }, 'https://latchkey.example.com');
    expect(emailRecipients('access_request.granted', granted)).toEqual([{ email: 'ana@example.com', role: 'requester', reasons: [] }]);
    const mail = renderEmail('access_request.granted', granted, 'requester', []);
    expect(mail.text).toContain(`https://latchkey.example.com/portal/requests/${request.id}/connect`);
    expect(mail.text.toLowerCase()).not.toMatch(/password:/);
    expect(mail.html).toContain('<a href="https://latchkey.example.com/portal/requests/');
  });

  it('tells the requester of an expiry, saying whether the access ran out or nobody decided', () => {
    const pending = requestEventData({ ...request, status: 'EXPIRED' }, 'https://latchkey.example.com');
    expect(emailRecipients('access_request.expired', pending)).toEqual([{ email: 'ana@example.com', role: 'requester', reasons: [] }]);
    expect(renderEmail('access_request.expired', pending, 'requester', []).text).toContain('before anyone decided');
    const ran = requestEventData({ ...request, status: 'EXPIRED', expiresAt: '2026-12-01T01:00:00.000Z' }, 'https://latchkey.example.com');
    expect(renderEmail('access_request.expired', ran, 'requester', []).subject).toBe('Your access has ended');
  });

  it('escapes what people typed in HTML and Slack', () => {
    const mail = renderEmail('access_request.created', data, 'approver', ['x']);
    expect(mail.html).toContain('ticket &lt;42&gt;');
    const slack = JSON.stringify(slackMessage('access_request.created', { data }));
    expect(slack).toContain('ticket &lt;42&gt;');
    expect(slack).toContain(`"url":"https://latchkey.example.com/portal/approvals/${request.id}"`);
  });

  it('filters by event type, integration and flow', () => {
    const event = { type: 'access_request.created', integrationId: request.integrationId, flowId: request.flowId };
    expect(passesFilters({ events: ['*'], filters: {} }, event)).toBe(true);
    expect(passesFilters({ events: ['access_request.granted'], filters: {} }, event)).toBe(false);
    expect(passesFilters({ events: ['*'], filters: { integrationIds: [request.integrationId] } }, event)).toBe(true);
    expect(passesFilters({ events: ['*'], filters: { flowIds: ['66666666-6666-4666-8666-666666666666'] } }, event)).toBe(false);
  });
});

describe('ALL_OF in turn, reminders and escalation', () => {
  const allOf = {
    ...request,
    approvalMode: 'ALL_OF' as const,
    approverGroups: [
      { type: 'group' as const, values: ['data-team'], source: null, approverIds: ['a'], approverEmails: ['dana@example.com'], satisfiedBy: null },
      { type: 'group' as const, values: ['security'], source: null, approverIds: ['s'], approverEmails: ['sam@example.com'], satisfiedBy: null },
    ],
    flowLimits: {
      maxDurationMinutes: 60,
      maxExtensions: 0,
      approverReasonRequired: false,
      reminders: { intervalMinutes: 5, maxCount: 2 },
      escalation: [
        {
          afterMinutes: 30,
          dueAt: '2026-12-01T00:30:00.000Z',
          groups: [
            { type: 'user' as const, values: ['boss@example.com'], source: null, approverIds: ['x'], approverEmails: ['boss@example.com'], satisfiedBy: null },
          ],
        },
      ],
    },
  };

  it('ALL_OF: a new request asks the first group only; once it approved, the next', () => {
    const created = requestEventData(allOf, 'https://l.example.com');
    expect(emailRecipients('access_request.created', created).map((r) => r.email)).toEqual(['dana@example.com']);
    const after = requestEventData(
      {
        ...allOf,
        approverGroups: [{ ...allOf.approverGroups[0], satisfiedBy: 'dana@example.com' }, allOf.approverGroups[1]],
        approvals: [{ userId: 'a', email: 'dana@example.com', decision: 'APPROVED', reason: null, at: '2026-12-01T00:01:00.000Z', asAdmin: false }],
      },
      'https://l.example.com',
    );
    const next = emailRecipients('access_request.partially_approved', after);
    expect(next).toEqual([{ email: 'sam@example.com', role: 'approver', reasons: [expect.stringContaining('"security"')] }]);
    expect(renderEmail('access_request.partially_approved', after, 'approver', next[0].reasons).text).toContain('dana@example.com');
  });

  it('an escalation asks its tier; a reminder after it asks the waiting group and the tier, saying which reminder', () => {
    const escalated = requestEventData(allOf, 'https://l.example.com', { escalationTier: 1 });
    const to = emailRecipients('access_request.escalated', escalated);
    expect(to).toEqual([{ email: 'boss@example.com', role: 'approver', reasons: [expect.stringContaining('escalation tier 1')] }]);
    expect(renderEmail('access_request.escalated', escalated, 'approver', to[0].reasons).subject).toMatch(/^Escalated to you/);
    const reminder = requestEventData(allOf, 'https://l.example.com', { reminder: { number: 2, of: 2 }, escalationTier: 1 });
    expect(emailRecipients('access_request.reminder', reminder).map((r) => r.email)).toEqual(['dana@example.com', 'boss@example.com']);
    expect(renderEmail('access_request.reminder', reminder, 'approver', ['x']).subject).toContain('Reminder 2 of 2');
    expect(slackMessage('access_request.reminder', { data: reminder }).text).toMatch(/^Reminder/);
  });
});

describe("a person's channels, and the expiry warning's Extend link", () => {
  const granted = {
    ...request,
    status: 'GRANTED' as const,
    expiresAt: '2026-12-01T01:00:00.000Z',
    flowLimits: { maxDurationMinutes: 60, maxExtensions: 2, approverReasonRequired: false },
  };

  it('goes where the person chose, else where the organisation says, else by email; Slack without a webhook falls back to email', () => {
    expect(personalChannels(null, null, false)).toEqual({ email: true, slack: false });
    expect(personalChannels(['slack'], null, true)).toEqual({ email: false, slack: true });
    expect(personalChannels(['email', 'slack'], ['email'], true)).toEqual({ email: true, slack: true });
    expect(personalChannels(null, ['slack'], true)).toEqual({ email: false, slack: true });
    expect(personalChannels(null, ['slack'], false)).toEqual({ email: true, slack: false });
    expect(personalChannels(['email'], ['slack'], true)).toEqual({ email: true, slack: false });
  });

  it('warns with an Extend link while extensions remain, and without one when none do', () => {
    const open = requestEventData({ ...granted, extensions: 1 }, 'https://latchkey.example.com');
    expect(open.extensionsRemaining).toBe(1);
    expect(open.links.extend).toBe(`https://latchkey.example.com/portal/requests/${request.id}?extend=1`);
    const mail = renderEmail('access_request.expiring', open, 'requester', []);
    expect(mail.text).toContain(`Extend access: https://latchkey.example.com/portal/requests/${request.id}?extend=1`);
    expect(mail.text).toContain('1 extension left');

    const spent = requestEventData({ ...granted, extensions: 2 }, 'https://latchkey.example.com');
    expect(spent.extensionsRemaining).toBe(0);
    expect(spent.links.extend).toBeUndefined();
    const last = renderEmail('access_request.expiring', spent, 'requester', []);
    expect(last.text).not.toContain('extend=1');
    expect(last.text).toContain('cannot be extended');
    // Only granted access can be extended.
    expect(requestEventData({ ...granted, status: 'EXPIRED' }, 'https://latchkey.example.com').links.extend).toBeUndefined();
  });

  it("a person's Slack message says what their email says, with its link as a button", () => {
    const open = requestEventData({ ...granted, extensions: 0 }, 'https://latchkey.example.com');
    const slack = personalSlackMessage('access_request.expiring', open, 'requester', []) as { text: string; blocks: any[] };
    expect(slack.text).toBe('Your access ends soon');
    expect(slack.blocks.at(-1).elements[0]).toMatchObject({
      type: 'button',
      text: { text: 'Extend access' },
      url: `https://latchkey.example.com/portal/requests/${request.id}?extend=1`,
    });
    const asked = personalSlackMessage('access_request.created', requestEventData(request, 'https://latchkey.example.com'), 'approver', [
      'you are a member of the approver group "data-team"',
    ]);
    expect(JSON.stringify(asked)).toContain('You are asked because you are a member of the approver group \\"data-team\\"');
    expect(JSON.stringify(asked)).toContain('ticket &lt;42&gt;');
  });
});
