import type { Grant } from '@latchkey/contracts';
import { GrantEntity } from './grant.entity';

export function toView(g: GrantEntity): Grant {
  return {
    id: g.id,
    idempotencyKey: g.idempotencyKey,
    integrationId: g.integrationId,
    connectorId: g.connectorId,
    identity: { id: g.identityId, email: g.identityEmail },
    roleName: g.roleName,
    items: g.items,
    status: g.status,
    expiresAt: g.expiresAt.toISOString(),
    createdAt: g.createdAt.toISOString(),
    grantedAt: g.grantedAt?.toISOString() ?? null,
    endedAt: g.endedAt?.toISOString() ?? null,
    attempts: g.attempts,
    lastError: g.lastError,
    endReason: g.endReason,
    revokedBy: g.revokedBy,
  };
}
