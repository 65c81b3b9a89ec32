import { Injectable } from '@nestjs/common';
import { AppException, ErrorCode } from '@latchkey/contracts';
import type { EncryptedEnvelope, ReceivedOf, RotationState, RotationSubject } from '@latchkey/contracts';
import { Contracts } from '@latchkey/contracts';
import { decryptSecret, MasterKey, SecretsError } from '@latchkey/secrets';
import { IntegrationEntity } from '../integrations/integration.entity';
import { rotationView, targetOf } from '../integrations/integration-view';
import { IntegrationsRepository, type IntegrationsTransaction } from '../integrations/integrations.repository';

type Record_ = ReceivedOf<typeof Contracts.catalogRotationRecord>;

/**
 * The two secret versions of a rotation: a new password is staged (pending) before the database
 * is touched, and becomes current only once the worker has logged in with it; the old one is
 * retired then. Every settlement updates the rotation state and writes its audit entry in one
 * transaction, with the integration row locked.
 */
@Injectable()
export class SecretVersionsService {
  constructor(
    private readonly integrations: IntegrationsRepository,
    private readonly masterKey: MasterKey,
  ) {}

  async subject(id: string): Promise<RotationSubject> {
    const e = await this.integrations.findById(id);
    if (!e) throw notFound(id);
    return {
      integrationId: e.id,
      name: e.name,
      connectorId: e.connectorId,
      credentialRotationDays: e.credentialRotationDays,
      secretSetAt: e.secretSetAt.toISOString(),
      pendingRunId: e.pendingRunId,
      rotation: rotationView(e),
      target: targetOf(e),
    };
  }

  /** Stages the run's password. Refused while another run's password is staged: that one is settled first. */
  async stage(id: string, runId: string, envelope: EncryptedEnvelope): Promise<{ staged: true }> {
    return this.integrations.transaction(async (tx) => {
      const e = await this.locked(tx, id);
      if (e.pendingRunId === runId) return { staged: true } as const;
      if (e.pendingRunId !== null)
        throw new AppException(ErrorCode.Conflict, `Integration ${id} has a password staged by run ${e.pendingRunId}; it is settled first.`);
      if (e.secret.store !== 'builtin')
        throw new AppException(ErrorCode.Conflict, `Integration ${id} keeps its secret in store ${e.secret.store}, which Latchkey cannot write.`);
      this.assertSameUser(e, envelope);
      Object.assign(e, { pendingSecret: { store: 'builtin', envelope }, pendingRunId: runId, pendingStagedAt: new Date() });
      await tx.save(e);
      return { staged: true } as const;
    });
  }

  async record(r: Record_): Promise<RotationState> {
    return this.integrations.audited(async (tx) => {
      const e = await this.locked(tx, r.id);
      const ours = e.pendingRunId === r.runId;
      if (r.pending === 'promote' && !ours) {
        // Sent again after a commit whose answer was lost: nothing more to do.
        if (e.lastRotationRunId === r.runId) return rotationView(e);
        throw new AppException(ErrorCode.Conflict, `Run ${r.runId} has no password staged on integration ${r.id}.`);
      }
      const now = new Date();
      if (r.pending === 'promote') {
        Object.assign(e, { secret: e.pendingSecret, secretSetAt: now, lastRotatedAt: now, lastRotationRunId: r.runId });
      }
      if (ours && (r.pending === 'promote' || r.pending === 'discard')) Object.assign(e, { pendingSecret: null, pendingRunId: null, pendingStagedAt: null });
      Object.assign(e, {
        lastRotationAttemptAt: now,
        lastRotationResult: r.result,
        lastRotationError: r.result === 'failed' ? (r.detail ?? 'rotation failed').slice(0, 2000) : null,
      });
      await tx.save(e);
      await tx.audit({
        action: `rotation.${r.result}`,
        actor: r.actor,
        targetType: 'integration',
        targetId: e.id,
        targetName: e.name,
        details: { trigger: r.trigger, runId: r.runId, connectorId: e.connectorId, staged: r.pending, ...(r.detail ? { detail: r.detail } : {}) },
      });
      return rotationView(e);
    });
  }

  async planned(id: string, nextDueAt: string | null): Promise<RotationState> {
    return this.integrations.transaction(async (tx) => {
      const e = await this.locked(tx, id);
      e.nextDueAt = nextDueAt === null ? null : new Date(nextDueAt);
      await tx.save(e);
      return rotationView(e);
    });
  }

  private async locked(tx: IntegrationsTransaction, id: string): Promise<IntegrationEntity> {
    const e = await tx.lockById(id);
    if (!e) throw notFound(id);
    return e;
  }

  /** The staged password must be for the connector user the integration already uses. */
  private assertSameUser(e: IntegrationEntity, envelope: EncryptedEnvelope) {
    try {
      const staged = decryptSecret(envelope, this.masterKey);
      if (e.secret.store === 'builtin' && staged.username === decryptSecret(e.secret.envelope, this.masterKey).username) return;
    } catch (err) {
      if (!(err instanceof SecretsError)) throw err;
    }
    throw AppException.validation([{ field: 'envelope', rule: "must be sealed with the master key, for the integration's own connector user" }]);
  }
}

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No integration with id ${id}.`);
