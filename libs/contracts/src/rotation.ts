import { z } from 'zod';
import { Timestamp } from './text';
import { Actor, SYSTEM_ACTOR } from './audit';
import { defineEvent, defineRequest } from './contract';
import { IntegrationTarget, RotationResult, RotationState } from './integrations';
import { EncryptedEnvelope } from './secrets';

const IntegrationId = z.string().uuid('must be a UUID');

/** What started a rotation run: the schedule, an admin (`POST .../rotate`), or the repair of an interrupted run. */
export const RotationTrigger = z.enum(['scheduled', 'manual', 'repair']);
export type RotationTrigger = z.infer<typeof RotationTrigger>;

/** What the rotation worker reads of an integration (the secrets stay encrypted). */
export const RotationSubject = z.object({
  integrationId: z.string().uuid(),
  name: z.string(),
  connectorId: z.string(),
  credentialRotationDays: z.number().int().nullable(),
  /** When the current credential was set (created, replaced by an admin, or rotated): the age a schedule counts from. */
  secretSetAt: z.string(),
  /** The run that staged `target.pendingSecret`, if any. */
  pendingRunId: z.string().uuid().nullable(),
  rotation: RotationState,
  target: IntegrationTarget,
});
export type RotationSubject = z.infer<typeof RotationSubject>;

/**
 * How a run settles the staged password: `promote` makes it current (the old one is retired),
 * `discard` drops it (it never reached the database, or was rolled back), `keep` leaves it for the
 * next run (the database's state is unknown), `none` when nothing was staged.
 */
export const PendingAction = z.enum(['promote', 'discard', 'keep', 'none']);
export type PendingAction = z.infer<typeof PendingAction>;

export const RotationRecord = z.object({
  id: IntegrationId,
  runId: z.string().uuid(),
  trigger: RotationTrigger,
  actor: Actor.default(SYSTEM_ACTOR),
  pending: PendingAction,
  result: RotationResult,
  /** Why it failed, or what a repair found; never a credential. */
  detail: z.string().max(2000).optional(),
  /** The schedule's next run after this one, as the worker planned it. */
  nextDueAt: Timestamp.nullable().optional(),
});
export type RotationRecord = z.input<typeof RotationRecord>;

export const RotationRunResult = z.object({
  integrationId: z.string().uuid(),
  /** `not-due`: a scheduled run found the credential younger than its rotation period. */
  result: z.enum(['rotated', 'repaired', 'failed', 'not-due']),
  /** Set when the run failed, or what a repair did. */
  detail: z.string().optional(),
  rotation: RotationState,
});
export type RotationRunResult = z.infer<typeof RotationRunResult>;

const RotationEvent = z.object({
  integrationId: z.string().uuid(),
  connectorId: z.string(),
  runId: z.string().uuid(),
  trigger: RotationTrigger,
  actor: Actor,
});

/** Rotation of connector credentials (issue 5). */
export const RotationContracts = {
  /** Rotate now (repairing an interrupted run first); served by the rotation worker of the integration's connector. */
  rotationRun: defineRequest(
    'connector.{connectorId}.rotation.run',
    z.object({ integrationId: IntegrationId, actor: Actor.default(SYSTEM_ACTOR) }),
    RotationRunResult,
  ),
  /** (Re)plan an integration's schedule on its connector: after a change, or a handover from another connector. */
  rotationPlan: defineRequest(
    'connector.{connectorId}.rotation.plan',
    z.object({ integrationId: IntegrationId }),
    z.object({ nextDueAt: z.string().nullable() }),
  ),

  // Served by the catalog, which keeps the secret versions and the rotation state.
  catalogRotationGet: defineRequest('catalog.rotation.get', z.object({ id: IntegrationId }), RotationSubject),
  /** Stores a new password (encrypted by the worker with the master key) as the pending version, before the database is touched. */
  catalogRotationStage: defineRequest(
    'catalog.rotation.stage',
    z.object({ id: IntegrationId, runId: z.string().uuid(), envelope: EncryptedEnvelope }),
    z.object({ staged: z.literal(true) }),
  ),
  /** Settles a run: the pending version, the rotation state, and an audit entry, in one transaction. */
  catalogRotationRecord: defineRequest('catalog.rotation.record', RotationRecord, RotationState),
  /** Shows the schedule's next run on the integration. */
  catalogRotationPlanned: defineRequest('catalog.rotation.planned', z.object({ id: IntegrationId, nextDueAt: Timestamp.nullable() }), RotationState),

  /** The connector user's password was replaced (by a run, or by the repair of an interrupted one). */
  rotationIntegrationRotated: defineEvent(
    'rotation.integration.rotated',
    RotationEvent.extend({ result: z.enum(['rotated', 'repaired']), rotatedAt: z.string() }),
  ),
  /** A run failed; the working credential is kept. */
  rotationIntegrationFailed: defineEvent('rotation.integration.failed', RotationEvent.extend({ reason: z.string() })),
} as const;
