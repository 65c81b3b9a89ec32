import { SYSTEM_ACTOR } from '@latchkey/contracts';
import type { AccessDetails, AccessRequest, Actor, AuditEntryInput } from '@latchkey/contracts';
import type { AccessRequestEntity, Login } from './access-request.entity';

export function toRequestView(r: Omit<AccessRequestEntity, 'id'> & { id: string | null }): AccessRequest {
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
    passwordViewedAt: iso(r.passwordViewedAt),
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
export function requestAuditEntry(action: string, actor: Actor, r: Pick<AccessRequestEntity, 'id' | 'status' | 'requesterEmail' | 'flowName'>, details: Record<string, unknown>): AuditEntryInput {
  return { action, actor, targetType: 'access-request', targetId: r.id, targetName: `${r.requesterEmail} via ${r.flowName}`, details: { status: r.status, ...details } };
}

/**
 * The one audit entry of a request's end: `request.expired` (by Latchkey), `request.revoked` (by
 * whoever revoked it), or `request.failed`. Asking for a revocation is audited apart, as
 * `request.revocation-requested`, when it happens.
 */
export function endAuditEntry(r: Pick<AccessRequestEntity, 'id' | 'status' | 'requesterEmail' | 'flowName' | 'revokedBy'>, details: Record<string, unknown>): AuditEntryInput {
  if (r.status === 'EXPIRED') return requestAuditEntry('request.expired', SYSTEM_ACTOR, r, details);
  if (r.status === 'REVOKED') return requestAuditEntry('request.revoked', r.revokedBy ?? SYSTEM_ACTOR, r, details);
  if (r.status === 'FAILED') return requestAuditEntry('request.failed', SYSTEM_ACTOR, r, details);
  throw new Error(`request ${r.id} has not ended (${r.status})`);
}
