import { DEFAULT_CHANNELS } from '@latchkey/contracts';
import type { AccessRequest, AuditEntry, NotificationEventType } from '@latchkey/contracts';

/** The audit actions that are notification events, and the event type each one becomes. */
const REQUEST_EVENTS: Record<string, NotificationEventType> = {
  'request.created': 'access_request.created',
  'request.approved': 'access_request.approved',
  'request.rejected': 'access_request.rejected',
  'request.granted': 'access_request.granted',
  'request.expired': 'access_request.expired',
  'request.revoked': 'access_request.revoked',
  'request.failed': 'access_request.failed',
};

/** The event an audit entry stands for, or null. */
export function eventTypeOf(entry: Pick<AuditEntry, 'action' | 'targetType' | 'details'>): NotificationEventType | null {
  if (entry.targetType !== 'access-request') return null;
  const type = REQUEST_EVENTS[entry.action];
  if (!type) return null;
  // An ALL_OF approval that leaves groups waiting: the next group is asked.
  if (type === 'access_request.approved' && entry.details?.complete === false) return 'access_request.partially_approved';
  return type;
}

export interface PortalLinks {
  request: string;
  approve: string;
  connect: string;
  /** The request page with its Extend dialog open: only while the access is granted and extensions remain. */
  extend?: string;
}

/** Where people act on a request in the portal (LATCHKEY_PUBLIC_URL); the paths are apps/web's routes. */
export function portalLinks(publicUrl: string, requestId: string): PortalLinks {
  const base = publicUrl.replace(/\/+$/, '');
  const id = encodeURIComponent(requestId);
  return { request: `${base}/portal/requests/${id}`, approve: `${base}/portal/approvals/${id}`, connect: `${base}/portal/requests/${id}/connect` };
}

/** An event's `data`: what a receiver needs to act, never a password or a secret. */
export interface RequestEventData {
  requestId: string;
  status: string;
  requester: { id: string; email: string };
  flow: { id: string; name: string };
  integrationId: string;
  resources: Array<{ id: string; type: string; path: string; permission: string }>;
  permissions: string[];
  durationMinutes: number;
  justification: string | null;
  approvalMode: string;
  approvers: Array<{ type: string; values: string[]; source: string | null; emails: string[]; satisfiedBy: string | null }>;
  approvals: AccessRequest['approvals'];
  expiresAt: string | null;
  /** Why it was rejected, failed or revoked, when someone said. */
  reason: string | null;
  actor: { type: string; id: string; email?: string } | null;
  links: PortalLinks;
  /** How many more times the requester may extend the access (the flow's limit as it was when the request was made); null when unknown. */
  extensionsRemaining: number | null;
  /** The flow's escalation tiers (1-based `tier`), each with the people it asks from `dueAt` on. */
  escalation: Array<{ tier: number; afterMinutes: number; dueAt: string; emails: string[] }>;
  /** On a reminder: which one, of how many. */
  reminder?: { number: number; of: number };
  /** On an escalation: the tier now asked. */
  escalationTier?: number;
}

export function requestEventData(
  request: AccessRequest & { id: string },
  publicUrl: string,
  extra: {
    status?: string;
    reason?: string | null;
    actor?: RequestEventData['actor'];
    expiresAt?: string | null;
    reminder?: RequestEventData['reminder'];
    escalationTier?: number;
  } = {},
): RequestEventData {
  const status = extra.status ?? request.status;
  const extensionsRemaining = request.flowLimits ? Math.max(0, request.flowLimits.maxExtensions - request.extensions) : null;
  const links: PortalLinks = portalLinks(publicUrl, request.id);
  if (status === 'GRANTED' && extensionsRemaining) links.extend = `${links.request}?extend=1`;
  return {
    requestId: request.id,
    status,
    requester: { id: request.requesterId, email: request.requesterEmail },
    flow: { id: request.flowId, name: request.flowName },
    integrationId: request.integrationId,
    resources: request.items.map((i) => ({ id: i.resourceId, type: i.resourceType, path: i.path, permission: i.permission })),
    permissions: [...new Set(request.items.map((i) => i.permission))],
    durationMinutes: request.durationMinutes,
    justification: request.justification,
    approvalMode: request.approvalMode,
    approvers: request.approverGroups.map((g) => ({ type: g.type, values: g.values, source: g.source, emails: g.approverEmails, satisfiedBy: g.satisfiedBy })),
    approvals: request.approvals,
    expiresAt: extra.expiresAt !== undefined ? extra.expiresAt : request.expiresAt,
    reason: extra.reason ?? null,
    actor: extra.actor ?? null,
    links,
    extensionsRemaining,
    escalation: (request.flowLimits?.escalation ?? []).map((t, i) => ({
      tier: i + 1,
      afterMinutes: t.afterMinutes,
      dueAt: t.dueAt,
      emails: [...new Set(t.groups.flatMap((g) => g.approverEmails))],
    })),
    ...(extra.reminder ? { reminder: extra.reminder } : {}),
    ...(extra.escalationTier ? { escalationTier: extra.escalationTier } : {}),
  };
}

/**
 * The approver groups asked now: every waiting group (ANY_OF), or ALL_OF's groups in turn (the
 * first one still waiting, so each group is asked once the one before it approved).
 */
export function groupsAskedNow(data: Pick<RequestEventData, 'approvalMode' | 'approvers'>): RequestEventData['approvers'] {
  const waiting = data.approvers.filter((g) => g.satisfiedBy === null);
  return data.approvalMode === 'ALL_OF' ? waiting.slice(0, 1) : waiting;
}

/** Why one approver group asks these people, in words. */
export function approverReason(group: RequestEventData['approvers'][number], flowName: string): string {
  if (group.type === 'user') return `you are named as an approver in the access flow "${flowName}"`;
  if (group.type === 'group')
    return `you are a member of ${group.values.length > 1 ? 'the approver groups' : 'the approver group'} ${group.values.map((v) => `"${v}"`).join(', ')} of the access flow "${flowName}"`;
  return `you are an owner of what is requested (${group.source || 'resource owner'}) in the access flow "${flowName}"`;
}

export type EmailRole = 'approver' | 'requester' | 'admin';

/** Events that ask approvers to decide. */
export const APPROVER_EVENTS: ReadonlySet<NotificationEventType> = new Set([
  'access_request.created',
  'access_request.partially_approved',
  'access_request.reminder',
  'access_request.escalated',
]);

export function escalationReason(tier: RequestEventData['escalation'][number], flowName: string): string {
  return `the request has waited ${tier.afterMinutes} min without a decision and you are in escalation tier ${tier.tier} of the access flow "${flowName}"`;
}

/** Who gets an email for an event, and why: approvers of a new request, the requester of the rest. */
export function emailRecipients(type: NotificationEventType, data: RequestEventData): Array<{ email: string; role: EmailRole; reasons: string[] }> {
  if (APPROVER_EVENTS.has(type)) {
    if (data.status !== 'PENDING') return [];
    const byEmail = new Map<string, string[]>();
    const ask = (email: string, reason: string) => {
      // The requester can never approve their own request, and who already acted is not asked again.
      if (email.toLowerCase() === data.requester.email.toLowerCase()) return;
      if (data.approvals.some((a) => a.email.toLowerCase() === email.toLowerCase())) return;
      byEmail.set(email, [...(byEmail.get(email) ?? []), reason]);
    };
    if (type === 'access_request.escalated') {
      const tier = data.escalation.find((t) => t.tier === data.escalationTier);
      for (const email of tier?.emails ?? []) ask(email, escalationReason(tier!, data.flow.name));
    } else {
      for (const group of groupsAskedNow(data)) for (const email of group.emails) ask(email, approverReason(group, data.flow.name));
      // A reminder also goes to the escalation tiers already asked.
      if (type === 'access_request.reminder') {
        for (const tier of data.escalation.filter((t) => data.escalationTier !== undefined && t.tier <= data.escalationTier))
          for (const email of tier.emails) ask(email, escalationReason(tier, data.flow.name));
      }
    }
    return [...byEmail].map(([email, reasons]) => ({ email, role: 'approver', reasons }));
  }
  const toRequester = (): Array<{ email: string; role: EmailRole; reasons: string[] }> => [{ email: data.requester.email, role: 'requester', reasons: [] }];
  switch (type) {
    case 'access_request.approved':
      return data.actor?.type === 'user' ? toRequester() : [];
    case 'access_request.rejected':
    case 'access_request.granted':
    case 'access_request.failed':
    case 'access_request.expiring':
    case 'access_request.expired':
      return toRequester();
    case 'access_request.revoked':
      return data.actor?.id === data.requester.id ? [] : toRequester();
    default:
      return [];
  }
}

/**
 * Where a person is told: their channels, else the organisation's, else email. Slack needs the
 * person's own webhook: without one (an organisation default of Slack, a webhook removed) the
 * message goes by email instead, so nobody is left unreachable by a default.
 */
export function personalChannels(mine: string[] | null, defaults: string[] | null, hasSlack: boolean): { email: boolean; slack: boolean } {
  const chosen = mine?.length ? mine : defaults?.length ? defaults : DEFAULT_CHANNELS;
  const slack = chosen.includes('slack') && hasSlack;
  return { slack, email: chosen.includes('email') || !slack };
}

/** Whether an endpoint's filters let an event through. */
export function passesFilters(
  endpoint: { events: string[]; filters: { integrationIds?: string[]; flowIds?: string[] } },
  event: { type: string; integrationId: string | null; flowId: string | null },
): boolean {
  if (!endpoint.events.includes('*') && !endpoint.events.includes(event.type)) return false;
  const { integrationIds, flowIds } = endpoint.filters;
  if (integrationIds?.length && (event.integrationId === null || !integrationIds.includes(event.integrationId))) return false;
  if (flowIds?.length && (event.flowId === null || !flowIds.includes(event.flowId))) return false;
  return true;
}
