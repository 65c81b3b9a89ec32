import type { AccessDetails, AccessRequest, ResolvedApproverGroup } from '@latchkey/contracts';

/** A request as the portal shows it: the API's own view. */
export type PortalRequest = AccessRequest;

/** What New request hands My requests (router state) when one submission made several requests, one per flow. */
export interface MadeRequests {
  made: number;
}

/** Statuses that move by themselves: pages showing them poll until they settle. */
export const MOVING_STATUSES: readonly string[] = ['PENDING', 'APPROVED', 'GRANTED', 'REVOKING'];
export const OPEN_STATUSES: readonly string[] = ['PENDING', 'APPROVED', 'GRANTED', 'REVOKING'];
export const PORTAL_POLL_MS = 2_000;

/** "1 h 05 min 09 s", "4 min 00 s", "ended": what is left until `at`, read at `now`. */
export function countdown(at: string, now: number): string {
  const left = Math.floor((new Date(at).getTime() - now) / 1000);
  if (left <= 0) return 'ended';
  const days = Math.floor(left / 86_400);
  const hours = Math.floor((left % 86_400) / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days} d ${hours} h ${two(minutes)} min`;
  if (hours > 0) return `${hours} h ${two(minutes)} min ${two(seconds)} s`;
  return `${minutes} min ${two(seconds)} s`;
}

/** Minutes as people say them: "30 minutes", "2 hours", "1 day 6 hours". */
export function duration(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const part = (n: number, unit: string) => (n ? [`${n} ${unit}${n === 1 ? '' : 's'}`] : []);
  return [...part(days, 'day'), ...part(hours, 'hour'), ...part(rest, 'minute')].join(' ') || '0 minutes';
}

/** Who an approver group stands for, in words. */
export function groupWords(group: ResolvedApproverGroup): string {
  if (group.type === 'user') return `named approver ${group.values.join(', ')}`;
  if (group.type === 'group') return `member of group ${group.values.join(', ')}`;
  return group.source ? `owner (${group.source})` : 'owner';
}

/** A group with the people who may approve for it: "member of group finance (fay@x.io)". */
export function groupWithPeople(group: ResolvedApproverGroup): string {
  return `${groupWords(group)} (${group.approverEmails.join(', ') || 'nobody'})`;
}

/** Who approves a request, in words: automatically, one of its groups, or each of them. */
export function approvalWords(request: Pick<AccessRequest, 'approvalMode' | 'approverGroups'>): string {
  if (request.approvalMode === 'AUTOMATIC') return 'approved automatically';
  const groups = request.approverGroups.map(groupWithPeople);
  if (request.approvalMode === 'ALL_OF') return `approved by each of: ${groups.join('; ')}`;
  return `approved by one of: ${groups.join('; ')}`;
}

/** Where one approver group stands: approved by whom (its `satisfiedBy` is the approver's email), awaited, or left undecided. */
export function groupState(request: Pick<AccessRequest, 'status'>, group: ResolvedApproverGroup): string {
  if (group.satisfiedBy) return `approved by ${group.satisfiedBy}`;
  return request.status === 'PENDING' ? 'awaited' : 'no decision';
}

/** Why `userId` is asked to decide: the approver groups that name them, and the escalation tiers that added them. */
export function whyApprover(request: AccessRequest, userId: string): string {
  const mine = request.approverGroups.filter((g) => g.approverIds.includes(userId)).map(groupWords);
  (request.flowLimits?.escalation ?? []).forEach((tier, i) => {
    if (tier.groups.some((g) => g.approverIds.includes(userId))) mine.push(`escalation tier ${i + 1} (nobody decided within ${duration(tier.afterMinutes)})`);
  });
  if (mine.length === 0) return 'You are asked as an administrator';
  return `You are asked as ${mine.join('; ')}`;
}

/** Approver groups that resolve to nobody: the request would wait for no one. */
export function emptyGroups(request: AccessRequest): ResolvedApproverGroup[] {
  return request.approverGroups.filter((g) => g.approverIds.length === 0);
}

/** Warnings to show on a request: the API's own, else the groups that resolve to nobody. */
export function requestWarnings(request: PortalRequest): string[] {
  if (request.warnings.length > 0) return request.warnings.map((w) => w.message);
  return emptyGroups(request).map((g) => `No one can approve for ${groupWords(g)}: the group resolves to nobody. Ask an administrator to settle this request.`);
}

/** `postgresql://user@host:port/db?sslmode=...`: the connection URI without the password. */
export function connectionUri(details: Pick<AccessDetails, 'host' | 'port' | 'database' | 'username' | 'sslmode'>): string {
  const host = details.host.includes(':') ? `[${details.host}]` : details.host;
  return `postgresql://${encodeURIComponent(details.username)}@${host}:${details.port}/${encodeURIComponent(details.database)}?sslmode=${details.sslmode}`;
}

export interface TimelineEvent {
  at: string;
  what: string;
}

/** A request's story from its own fields: created, each decision, granted, extended, ended. */
export function timeline(request: PortalRequest): TimelineEvent[] {
  const events: TimelineEvent[] = [{ at: request.createdAt, what: `Requested by ${request.requesterEmail}` }];
  for (const a of request.approvals) {
    events.push({
      at: a.at,
      what: `${a.decision === 'APPROVED' ? 'Approved' : 'Rejected'} by ${a.email}${a.asAdmin ? ' (as administrator)' : ''}${a.reason ? `: ${a.reason}` : ''}`,
    });
  }
  if (request.grantedAt) events.push({ at: request.grantedAt, what: 'Granted' });
  if (request.extensions > 0)
    events.push({
      at: request.expiresAt ?? request.grantedAt ?? request.createdAt,
      what: `Extended ${request.extensions} time${request.extensions === 1 ? '' : 's'}; expires then`,
    });
  if (request.endedAt) {
    const reason = request.failureReason ?? request.statusReason;
    const by = request.revokedBy && request.revokedBy.type !== 'system' ? ` by ${request.revokedBy.email ?? request.revokedBy.id}` : '';
    events.push({ at: request.endedAt, what: `${request.status[0]}${request.status.slice(1).toLowerCase()}${by}${reason ? `: ${reason}` : ''}` });
  }
  return events.sort((a, b) => a.at.localeCompare(b.at));
}
