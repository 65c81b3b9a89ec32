import { SYSTEM_ACTOR } from '@latchkey/contracts';
import type { AccessDetails, AccessRequest, Actor, AuditEntryInput, ResolvedApproverGroup, Warning } from '@latchkey/contracts';
import type { AccessRequestEntity, Login } from './access-request.entity';

type RequestRow = Omit<AccessRequestEntity, 'id'> & { id: string | null };

/** When a PENDING request ends EXPIRED if nobody decides; null otherwise (or for requests made before the setting existed). */
export function pendingDeadline(r: Pick<RequestRow, 'status' | 'createdAt' | 'flowLimits'>): Date | null {
  const minutes = r.flowLimits.pendingExpiryMinutes;
  return r.status === 'PENDING' && minutes ? new Date(r.createdAt.getTime() + minutes * 60_000) : null;
}

const describeGroup = (g: ResolvedApproverGroup) => (g.type === 'OWNER' ? `OWNER (${g.source || 'integration owners'})` : `${g.type} ${g.values.join(', ')}`);

/**
 * What stands in a pending request's way: approver groups that resolved to nobody (an empty group,
 * an owner tag or integration owner naming no one, or only the requester). Only an admin can then
 * decide; without a decision the request ends EXPIRED at its deadline.
 */
export function requestWarnings(r: Pick<RequestRow, 'status' | 'createdAt' | 'flowLimits' | 'approvalMode' | 'approverGroups'>): Warning[] {
  if (r.status !== 'PENDING' || r.approvalMode === 'AUTOMATIC') return [];
  const deadline = pendingDeadline(r);
  const expiry = deadline ? ` Without a decision it expires at ${deadline.toISOString()}.` : '';
  const empty = r.approverGroups.map((g, i) => [g, i] as const).filter(([g]) => g.approverIds.length === 0);
  const stuck = r.approvalMode === 'ALL_OF' ? empty.length > 0 : empty.length === r.approverGroups.length;
  return empty.map(([g, i]) => ({
    field: `approverGroups.${i}`,
    message: stuck
      ? `Nobody can approve for ${describeGroup(g)}: it resolves to no one other than the requester, so only an admin can decide this request.${expiry}`
      : `Nobody can approve for ${describeGroup(g)}: it resolves to no one other than the requester; the other approver groups can still approve.`,
  }));
}

export function toRequestView(r: RequestRow): AccessRequest {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: r.id,
    status: r.status,
    requesterId: r.requesterId,
    requesterEmail: r.requesterEmail,
    flowId: r.flowId,
    flowName: r.flowName,
    integrationId: r.integrationId,
    items: r.items.map(({ resourceId, permission, resourceType, path }) => ({ resourceId, permission, resourceType, path })),
    justification: r.justification,
    durationMinutes: r.durationMinutes,
    approvalMode: r.approvalMode,
    approverGroups: r.approverGroups,
    approvals: r.approvals,
    createdAt: r.createdAt.toISOString(),
    grantedAt: iso(r.grantedAt),
    expiresAt: iso(r.expiresAt),
    endedAt: iso(r.endedAt),
    extensions: r.extensions,
    grantId: r.grantId,
    statusReason: r.statusReason,
    failureReason: r.status === 'FAILED' ? r.statusReason : null,
    passwordViewedAt: iso(r.passwordViewedAt),
    pendingExpiresAt: iso(pendingDeadline(r)),
    warnings: requestWarnings(r),
    revokedBy: r.revokedBy ?? null,
    flowLimits: r.flowLimits,
  };
}

/** A libpq connection-string value: quoted when it holds spaces, quotes or backslashes. */
function conninfoValue(value: string): string {
  return /^[^\s'\\]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A POSIX shell word. */
const shellWord = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** `psql '<conninfo>'`, safe to paste into a shell whatever the names hold; psql asks for the password. */
export function psqlCommand(login: Pick<Login, 'host' | 'port' | 'database' | 'username' | 'sslmode'>): string {
  const conninfo = [
    ['host', login.host],
    ['port', String(login.port)],
    ['dbname', login.database],
    ['user', login.username],
    ['sslmode', login.sslmode],
  ]
    .map(([k, v]) => `${k}=${conninfoValue(v)}`)
    .join(' ');
  return `psql ${shellWord(conninfo)}`;
}

export function toAccessDetails(r: AccessRequestEntity, password: string | null): AccessDetails {
  const login = r.login!;
  return {
    requestId: r.id,
    host: login.host,
    port: login.port,
    database: login.database,
    username: login.username,
    password,
    passwordViewedAt: r.passwordViewedAt ? r.passwordViewedAt.toISOString() : null,
    sslmode: login.sslmode,
    psql: psqlCommand(login),
    customAccessDetails: login.customAccessDetails,
    expiresAt: r.expiresAt!.toISOString(),
  };
}

/** The audit entry of a request event; details never hold a password. */
export function requestAuditEntry(
  action: string,
  actor: Actor,
  r: Pick<AccessRequestEntity, 'id' | 'status' | 'requesterEmail' | 'flowName'>,
  details: Record<string, unknown>,
): AuditEntryInput {
  return {
    action,
    actor,
    targetType: 'access-request',
    targetId: r.id,
    targetName: `${r.requesterEmail} via ${r.flowName}`,
    details: { status: r.status, ...details },
  };
}

/**
 * The one audit entry of a request's end: `request.expired` (by Latchkey), `request.revoked` (by
 * whoever revoked it), or `request.failed`. Asking for a revocation is audited apart, as
 * `request.revocation-requested`, when it happens.
 */
export function endAuditEntry(
  r: Pick<AccessRequestEntity, 'id' | 'status' | 'requesterEmail' | 'flowName' | 'revokedBy'>,
  details: Record<string, unknown>,
): AuditEntryInput {
  if (r.status === 'EXPIRED') return requestAuditEntry('request.expired', SYSTEM_ACTOR, r, details);
  if (r.status === 'REVOKED') return requestAuditEntry('request.revoked', r.revokedBy ?? SYSTEM_ACTOR, r, details);
  if (r.status === 'FAILED') return requestAuditEntry('request.failed', SYSTEM_ACTOR, r, details);
  throw new Error(`request ${r.id} has not ended (${r.status})`);
}
