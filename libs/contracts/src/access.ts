import { z } from 'zod';
import { defineEvent, defineRequest } from './contract';
import { Permission, ResourceType, SslMode } from './enums';
import { Actor } from './audit';
import { Caller } from './identities';
import { Page, listOf } from './integrations';
import { DurationMinutes, text, Timestamp } from './text';
import { ManagedBy } from './managed';
import { Warning } from './errors';

const Uuid = z.string().uuid('must be a UUID');
const Values = z
  .array(text({ min: 1, max: 500 }))
  .min(1, 'must list at least one value')
  .max(200, 'must list at most 200 values');

export const MatchOperator = z.enum(['is', 'is_not', 'contains', 'starts_with']);
export type MatchOperator = z.infer<typeof MatchOperator>;

/** Who may request: the caller's email (`user`), one of their groups (`group`) or an attribute. */
export const RequestorCondition = z
  .object({
    type: z.enum(['user', 'group', 'attribute']),
    attribute: text({ min: 1, max: 64 }).optional(),
    match: MatchOperator,
    values: Values,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type === 'attribute' && !c.attribute) ctx.addIssue({ code: 'custom', path: ['attribute'], message: 'is required when type is attribute' });
    if (c.type !== 'attribute' && c.attribute) ctx.addIssue({ code: 'custom', path: ['attribute'], message: 'is only used when type is attribute' });
  });
export type RequestorCondition = z.infer<typeof RequestorCondition>;

export const Requestors = z
  .object({
    operator: z.enum(['AND', 'OR']).default('OR'),
    conditions: z.array(RequestorCondition).min(1, 'must list at least one condition').max(50, 'must list at most 50 conditions'),
  })
  .strict();

/** Which resources of the target: by path glob (`*` any characters, `?` one), by resource id, or by tag value. */
export const ResourceSelector = z
  .object({
    mode: z.enum(['include', 'exclude']),
    by: z.enum(['name', 'id', 'tag']),
    key: text({ min: 1, max: 128 }).optional(),
    values: Values,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.by === 'tag' && !s.key) ctx.addIssue({ code: 'custom', path: ['key'], message: 'is required when by is tag (the tag key)' });
    if (s.by !== 'tag' && s.key) ctx.addIssue({ code: 'custom', path: ['key'], message: 'is only used when by is tag' });
    if (s.by === 'id') {
      s.values.forEach((v, i) => {
        if (!z.string().uuid().safeParse(v).success)
          ctx.addIssue({ code: 'custom', path: ['values', i], message: 'must be a resource id (UUID) when by is id' });
      });
    }
  });
export type ResourceSelector = z.infer<typeof ResourceSelector>;

export const FlowTarget = z
  .object({
    integrationId: Uuid,
    resourceType: ResourceType,
    permissions: z.array(Permission).min(1, 'must list at least one permission'),
    resources: ResourceSelector.optional(),
  })
  .strict();
export type FlowTarget = z.infer<typeof FlowTarget>;

export const ApproverGroup = z
  .object({ type: z.enum(['user', 'group', 'OWNER']), values: Values.optional() })
  .strict()
  .superRefine((g, ctx) => {
    if (g.type === 'OWNER' && g.values) ctx.addIssue({ code: 'custom', path: ['values'], message: 'is not used by OWNER (owners come from the integration)' });
    if (g.type !== 'OWNER' && !g.values)
      ctx.addIssue({ code: 'custom', path: ['values'], message: `is required for ${g.type} (${g.type === 'user' ? 'emails' : 'group names'})` });
  });
export type ApproverGroup = z.infer<typeof ApproverGroup>;

/** null: requests are approved automatically. */
export const Approvers = z
  .object({
    mode: z.enum(['ANY_OF', 'ALL_OF']),
    groups: z.array(ApproverGroup).min(1, 'must list at least one approver group (or set approvers to null for automatic approval)').max(20),
  })
  .strict()
  .nullable();
export type Approvers = z.infer<typeof Approvers>;

export const Weekday = z.enum(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN']);
export type Weekday = z.infer<typeof Weekday>;
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');

/** When requests may be made: these days, from start to end (end before start spans midnight), in the time zone. */
export const Timeframe = z
  .object({
    days: z.array(Weekday).min(1, 'must list at least one day'),
    start: ClockTime,
    end: ClockTime,
    timeZone: text({ min: 1, max: 100 }).refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Paris or UTC'),
  })
  .strict()
  .refine((t) => t.start !== t.end, { path: ['end'], message: 'must differ from start' });
export type Timeframe = z.infer<typeof Timeframe>;

/** Minutes in flow timings: fractions allowed (tests shorten them to seconds), at most 7 days. */
const TimingMinutes = z
  .number({ error: 'must be a number of minutes' })
  .min(0.05, 'must be at least 0.05 (3 seconds)')
  .max(10_080, 'must be at most 10080 (7 days)');

/** Approvers who have not acted are reminded every `intervalMinutes`, at most `maxCount` times. */
export const ReminderSettings = z
  .object({ intervalMinutes: TimingMinutes, maxCount: z.number().int('must be a whole number').min(1, 'must be at least 1').max(20, 'must be at most 20') })
  .strict();
export type ReminderSettings = z.infer<typeof ReminderSettings>;

/** A request still PENDING `afterMinutes` after it was made is also put to these approvers; each settles every group still waiting. */
export const EscalationTier = z
  .object({
    afterMinutes: TimingMinutes,
    approvers: z.array(ApproverGroup).min(1, 'must list at least one approver group').max(20, 'must list at most 20 approver groups'),
  })
  .strict();
export type EscalationTier = z.infer<typeof EscalationTier>;

export const FlowSettings = z
  .object({
    /** Reminders to approvers who have not acted yet; unset: none. */
    reminders: ReminderSettings.optional(),
    /** Up to 5 tiers, each later than the one before, counted from when the request was made. */
    escalation: z
      .array(EscalationTier)
      .max(5, 'must list at most 5 tiers')
      .superRefine((tiers, ctx) => {
        tiers.forEach((t, i) => {
          if (i > 0 && t.afterMinutes <= tiers[i - 1].afterMinutes)
            ctx.addIssue({ code: 'custom', path: [i, 'afterMinutes'], message: 'must be later than the tier before' });
        });
      })
      .optional(),
    justificationRequired: z.boolean().default(true),
    approverReasonRequired: z.boolean().default(false),
    maxExtensions: z.number().int().min(0, 'must be at least 0').max(100, 'must be at most 100').default(0),
    /** A request still PENDING this long after it was made ends EXPIRED; unset: the access service's ACCESS_PENDING_EXPIRY_MINUTES. */
    pendingExpiryMinutes: DurationMinutes.optional(),
    /** Always on: a requester never approves their own request. */
    requesterCannotApprove: z.literal(true, { error: 'is always true: a requester never approves their own request' }).default(true),
  })
  .strict();

export const AccessFlowInput = z
  .object({
    name: text({ trim: true, min: 1, max: 100 }),
    active: z.boolean().default(true),
    requestors: Requestors,
    targets: z.array(FlowTarget).min(1, 'must list at least one target').max(50, 'must list at most 50 targets'),
    approvers: Approvers,
    maxDurationMinutes: DurationMinutes,
    timeframe: Timeframe.nullable().default(null),
    settings: FlowSettings.default({ justificationRequired: true, approverReasonRequired: false, maxExtensions: 0, requesterCannotApprove: true }),
    managedBy: ManagedBy,
  })
  .strict();
export type AccessFlowInput = z.input<typeof AccessFlowInput>;
export type ValidAccessFlow = z.output<typeof AccessFlowInput>;

export const AccessFlow = AccessFlowInput.extend({
  id: z.string().uuid(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** On create and update only: approvers who resolve to nobody, permissions the connector's last test says it cannot grant. */
  warnings: z.array(Warning).optional(),
});
export type AccessFlow = z.output<typeof AccessFlow>;

/**
 * PENDING: waiting for approvers. APPROVED: being granted. GRANTED: credentials ready.
 * REVOKING: being taken back. EXPIRED / REVOKED: taken back. REJECTED. FAILED: could not be granted.
 */
export const AccessRequestStatus = z.enum(['PENDING', 'APPROVED', 'GRANTED', 'REVOKING', 'EXPIRED', 'REVOKED', 'REJECTED', 'FAILED']);
export type AccessRequestStatus = z.infer<typeof AccessRequestStatus>;

/** The longest a request's creation waits for its grant (AccessRequestInput.waitSeconds). */
export const MAX_CREATE_WAIT_SECONDS = 10;

export const AccessRequestInput = z
  .object({
    items: z
      .array(z.object({ resourceId: Uuid, permission: Permission }).strict())
      .min(1, 'must list at least one item')
      .max(50, 'must list at most 50 items'),
    justification: text({ trim: true, max: 2000 }).optional(),
    durationMinutes: DurationMinutes,
    dryRun: z.boolean().default(false),
    /**
     * For requests approved at creation (an automatic flow): answer once their grant is made, or
     * after this many seconds, whichever comes first. 0: answer at once (the grant follows).
     */
    waitSeconds: z
      .number()
      .int('must be a whole number')
      .min(0, 'must be 0 or more')
      .max(MAX_CREATE_WAIT_SECONDS, `must be at most ${MAX_CREATE_WAIT_SECONDS}`)
      .default(0),
    /**
     * With waitSeconds: each request granted within the wait comes with its access details and
     * password in this answer, which is then the one read of that password (audited as such).
     */
    revealCredentials: z.boolean().default(false),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.revealCredentials && input.waitSeconds === 0)
      ctx.addIssue({ code: 'custom', path: ['revealCredentials'], message: 'needs waitSeconds of at least 1' });
  });
export type AccessRequestInput = z.input<typeof AccessRequestInput>;
export type ValidAccessRequest = z.output<typeof AccessRequestInput>;

export const AccessRequestItem = z.object({
  resourceId: z.string().uuid(),
  permission: Permission,
  resourceType: ResourceType,
  path: z.string(),
});
export type AccessRequestItem = z.infer<typeof AccessRequestItem>;

export const Approval = z.object({
  userId: z.string(),
  email: z.string(),
  decision: z.enum(['APPROVED', 'REJECTED']),
  reason: z.string().nullable(),
  at: z.string(),
  /** An admin's decision (not one of the resolved approvers): it settles every group. */
  asAdmin: z.boolean(),
  /** Set when an escalation tier's approver decided (1 for the first tier): it settles every group. */
  escalationTier: z.number().int().optional(),
});
export type Approval = z.infer<typeof Approval>;

/** An approver group as resolved when the request was made: who may approve for it, and who did. */
export const ResolvedApproverGroup = z.object({
  type: z.enum(['user', 'group', 'OWNER']),
  values: z.array(z.string()),
  /** How OWNER was resolved: the resource-owner mapping or the integration owners. */
  source: z.string().nullable(),
  approverIds: z.array(z.string()),
  approverEmails: z.array(z.string()),
  satisfiedBy: z.string().nullable(),
});
export type ResolvedApproverGroup = z.infer<typeof ResolvedApproverGroup>;

export const AccessRequest = z.object({
  /** null in a dry run's answer. */
  id: z.string().uuid().nullable(),
  status: AccessRequestStatus,
  requesterId: z.string().uuid(),
  requesterEmail: z.string(),
  flowId: z.string().uuid(),
  flowName: z.string(),
  integrationId: z.string().uuid(),
  items: z.array(AccessRequestItem),
  justification: z.string().nullable(),
  durationMinutes: z.number().int(),
  approvalMode: z.enum(['AUTOMATIC', 'ANY_OF', 'ALL_OF']),
  approverGroups: z.array(ResolvedApproverGroup),
  approvals: z.array(Approval),
  createdAt: z.string(),
  grantedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  extensions: z.number().int(),
  grantId: z.string().uuid().nullable(),
  /** Why the request is FAILED, or what holds it (a stuck revocation, provisioning unreachable). */
  statusReason: z.string().nullable(),
  /** FAILED only: why the grant could not be made, with the SQL that fixes it when the connector lacks a privilege. */
  failureReason: z.string().nullable(),
  passwordViewedAt: z.string().nullable(),
  /** PENDING only: when the request ends EXPIRED if nobody decides. */
  pendingExpiresAt: z.string().nullable(),
  /** What stands in the request's way, e.g. an approver group that resolves to nobody. */
  warnings: z.array(Warning),
  /** Who revoked it (REVOKING or REVOKED at a person's request); null when it expired or is still running. */
  revokedBy: Actor.nullable().optional(),
  /** The flow's limits as they were when the request was made: what extend and approve allow. */
  flowLimits: z
    .object({
      maxDurationMinutes: z.number().int(),
      maxExtensions: z.number().int(),
      approverReasonRequired: z.boolean(),
      reminders: ReminderSettings.optional(),
      /** The escalation tiers resolved when the request was made, each with the moment it is due. */
      escalation: z.array(z.object({ afterMinutes: z.number(), dueAt: z.string(), groups: z.array(ResolvedApproverGroup) })).optional(),
    })
    .optional(),
});
export type AccessRequest = z.infer<typeof AccessRequest>;

/** Why a request (or one of its items) matches no flow. */
export const DenialReason = z.object({ resourceId: z.string(), permission: z.string(), reasons: z.array(z.string()) });
export type DenialReason = z.infer<typeof DenialReason>;

export const AccessDetails = z.object({
  requestId: z.string().uuid(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  username: z.string(),
  /** Only on the first read after a grant or a reset; null afterwards. */
  password: z.string().nullable(),
  passwordViewedAt: z.string().nullable(),
  sslmode: SslMode,
  /** A ready command line; psql asks for the password. */
  psql: z.string(),
  customAccessDetails: z.string().nullable(),
  expiresAt: z.string(),
});
export type AccessDetails = z.infer<typeof AccessDetails>;

/** The answer to creating requests; `accessDetails` only with revealCredentials, one per request granted within the wait. */
export const AccessRequestsCreated = z.object({
  dryRun: z.boolean(),
  requests: z.array(AccessRequest),
  accessDetails: z.array(AccessDetails).optional(),
});
export type AccessRequestsCreated = z.infer<typeof AccessRequestsCreated>;

export const AccessRequestQuery = z.object({
  status: AccessRequestStatus.optional(),
  requesterId: Uuid.optional(),
  integrationId: Uuid.optional(),
  flowId: Uuid.optional(),
  /** Only requests still waiting on the caller: an approver group naming them that nobody approved yet, or a due escalation tier naming them. */
  awaitingMyApproval: z.coerce.boolean().optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  ...Page,
});
export type AccessRequestQuery = z.input<typeof AccessRequestQuery>;

const ById = z.object({ id: Uuid });
/** The most requests `access.requests.get-many` reads at once. */
export const REQUESTS_PER_READ = 200;
const ByCaller = z.object({ caller: Caller });
const Reason = text({ trim: true, max: 2000 }).optional();

/** Access flows and access requests, served by the access service. */
export const AccessContracts = {
  accessFlowsCreate: defineRequest('access.flows.create', ByCaller.extend({ input: AccessFlowInput }), AccessFlow),
  accessFlowsList: defineRequest(
    'access.flows.list',
    z.object({ integrationId: Uuid.optional(), active: z.coerce.boolean().optional(), ...Page }),
    listOf(AccessFlow),
  ),
  accessFlowsGet: defineRequest('access.flows.get', ById, AccessFlow),
  accessFlowsUpdate: defineRequest('access.flows.update', ByCaller.extend(ById.shape).extend({ input: AccessFlowInput }), AccessFlow),
  accessFlowsDelete: defineRequest('access.flows.delete', ByCaller.extend(ById.shape), ById),

  accessRequestsCreate: defineRequest('access.requests.create', ByCaller.extend({ input: AccessRequestInput }), AccessRequestsCreated),
  accessRequestsList: defineRequest('access.requests.list', ByCaller.extend({ query: AccessRequestQuery }), listOf(AccessRequest)),
  accessRequestsGet: defineRequest('access.requests.get', ByCaller.extend(ById.shape), AccessRequest),
  /** Several requests in one round trip (the notifications service reads those of an audit-log page, of due reminders and of due expiry warnings so): those found that the caller may see, in no set order. */
  accessRequestsGetMany: defineRequest(
    'access.requests.get-many',
    ByCaller.extend({ ids: z.array(Uuid).max(REQUESTS_PER_READ, `must name at most ${REQUESTS_PER_READ} requests`) }),
    z.object({ items: z.array(AccessRequest) }),
  ),
  accessRequestsApprove: defineRequest('access.requests.approve', ByCaller.extend(ById.shape).extend({ reason: Reason }), AccessRequest),
  accessRequestsReject: defineRequest('access.requests.reject', ByCaller.extend(ById.shape).extend({ reason: Reason }), AccessRequest),
  accessRequestsRevoke: defineRequest('access.requests.revoke', ByCaller.extend(ById.shape).extend({ reason: Reason }), AccessRequest),
  accessRequestsExtend: defineRequest('access.requests.extend', ByCaller.extend(ById.shape).extend({ minutes: DurationMinutes }), AccessRequest),
  accessRequestsAccessDetails: defineRequest('access.requests.access-details', ByCaller.extend(ById.shape), AccessDetails),
  accessRequestsResetCredentials: defineRequest('access.requests.reset-credentials', ByCaller.extend(ById.shape), AccessDetails),
  /** A request changed status (for dashboards and notifications; the audit log is written in-process). */
  accessRequestChanged: defineEvent('access.request.changed', z.object({ id: z.string().uuid(), status: AccessRequestStatus })),
} as const;
