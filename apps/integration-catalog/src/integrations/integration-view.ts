import type { AuditDiff, Integration, IntegrationTarget, RotationState } from '@latchkey/contracts';
import { toSecretView } from '@latchkey/secrets';
import { IntegrationEntity } from './integration.entity';

/** What an API answer shows of an integration: secrets only as where they live. */
export function toView(e: IntegrationEntity): Integration {
  return {
    id: e.id,
    name: e.name,
    type: e.type,
    connectorId: e.connectorId,
    connectedResourceTypes: e.connectedResourceTypes,
    config: e.config,
    secret: toSecretView(e.secret),
    credentialRotationDays: e.credentialRotationDays,
    customAccessDetails: e.customAccessDetails,
    integrationOwners: e.integrationOwners,
    resourceOwnerMappings: e.resourceOwnerMappings,
    managedBy: e.managedBy,
    status: e.status,
    statusReason: e.statusReason,
    lastTest: e.lastTest,
    rotation: rotationView(e),
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

export function rotationView(e: IntegrationEntity): RotationState {
  return {
    lastRotatedAt: e.lastRotatedAt?.toISOString() ?? null,
    nextDueAt: e.nextDueAt?.toISOString() ?? null,
    lastAttemptAt: e.lastRotationAttemptAt?.toISOString() ?? null,
    lastResult: e.lastRotationResult,
    lastError: e.lastRotationError,
    pending: e.pendingRunId !== null,
  };
}

/** What a connector needs to reach the database: secrets still encrypted (or references), a staged one too. */
export function targetOf(e: IntegrationEntity): IntegrationTarget {
  return { integrationId: e.id, type: e.type, config: e.config, secret: e.secret, ...(e.pendingSecret ? { pendingSecret: e.pendingSecret } : {}) };
}

/**
 * The settings an admin changes, as the audit log records them: the secret as its redacted view,
 * under a name the log's redaction (which blanks any `...secret` key) leaves readable.
 */
function audited(e: IntegrationEntity): Record<string, unknown> {
  return {
    name: e.name,
    type: e.type,
    connectorId: e.connectorId,
    connectedResourceTypes: e.connectedResourceTypes,
    config: e.config,
    secretStore: toSecretView(e.secret),
    credentialRotationDays: e.credentialRotationDays,
    customAccessDetails: e.customAccessDetails,
    integrationOwners: e.integrationOwners,
    resourceOwnerMappings: e.resourceOwnerMappings,
    managedBy: e.managedBy,
  };
}

/**
 * The fields that differ between two versions (either may be absent: created, deleted). A secret
 * replaced by one of the same store looks the same redacted, so it is marked `replaced`.
 */
export function auditDiff(before: IntegrationEntity | undefined, after: IntegrationEntity | undefined, secretReplaced = false): AuditDiff {
  const b = before ? audited(before) : {};
  const a = after ? audited(after) : {};
  const diff: AuditDiff = {};
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) diff[key] = { ...(before ? { before: b[key] } : {}), ...(after ? { after: a[key] } : {}) };
  }
  if (secretReplaced && before && after && !diff.secretStore)
    diff.secretStore = { before: b.secretStore, after: { ...(a.secretStore as object), replaced: true } };
  return diff;
}
