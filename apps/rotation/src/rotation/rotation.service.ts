import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { z } from 'zod';
import { AppException, Contracts, ErrorCode } from '@latchkey/contracts';
import type {
  Actor,
  EventContract,
  PendingAction,
  RotationResult,
  RotationRunResult,
  RotationState,
  RotationSubject,
  RotationTrigger,
} from '@latchkey/contracts';
import { LOGGER, MessageBus, SERVICE_INFO } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { generatePassword, TargetDatabase, targetConnectionParams } from '@latchkey/pg-access';
import type { RotationSession, TargetConnectionParams } from '@latchkey/pg-access';
import { encryptSecret, MasterKey } from '@latchkey/secrets';

/** Milliseconds in one day of `credentialRotationDays` (shortened by tests only). */
export const DAY_MS = Symbol('DAY_MS');
export type RotationStep = 'after-stage' | 'after-set' | 'after-verify';
/**
 * Each step a rotation has taken, published (synchronously, costing nothing without a subscriber) on
 * the diagnostics channel `latchkey.rotation.step` as { integrationId, runId, step }: for tracing, and
 * for the fault tests, whose preloaded subscriber kills the process at a chosen step.
 */
export const ROTATION_STEPS = channel('latchkey.rotation.step');

const APPLICATION_NAME = 'latchkey-rotation';

/** What a rotation does on the target: the connector user's lock (and new password), and login checks. */
export type ConnectorCredentials = Pick<TargetDatabase, 'lockConnectorUser' | 'canLogin'>;
/** The catalog it asks and records in, and where its events go; narrow, like its log, so that unit tests hand-write them. */
export type CatalogBus = Pick<MessageBus, 'request' | 'publish'>;
export type RotationLog = Pick<AppLogger, 'info' | 'warn'>;

/** A run that cannot go on: it has been recorded (or could not be), and its answer is this result. */
class Settled extends Error {
  constructor(readonly outcome: RotationRunResult) {
    super(outcome.detail ?? outcome.result);
  }
}

interface Run {
  subject: RotationSubject;
  params: TargetConnectionParams;
  runId: string;
  trigger: RotationTrigger;
  actor: Actor;
  /** Passwords this run knows: scrubbed from every message it records. */
  secrets: string[];
}

/**
 * Rotates the connector user's password without ever losing the working one:
 * 1. generate a password and store it, encrypted, as the integration's pending version;
 * 2. set it on the database (a SCRAM verifier; the user changes its own password);
 * 3. log in with it on a fresh session;
 * 4. promote it to current in the catalog (the old one is retired).
 * A run interrupted anywhere leaves a pending version, which the next run settles before anything
 * else: the staged password logs in, so step 2 happened: promote it; the current one still logs
 * in, so it did not: discard it. Until then connectors try the staged password when the current
 * one is refused, so grants, discovery and tests keep working.
 */
@Injectable()
export class RotationService {
  constructor(
    @Inject(MessageBus) private readonly bus: CatalogBus,
    @Inject(TargetDatabase) private readonly credentials: ConnectorCredentials,
    @Inject(DAY_MS) private readonly dayMs: number,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: RotationLog,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  /** The integration's rotation state from the catalog. */
  subject(integrationId: string): Promise<RotationSubject> {
    return this.bus.request(Contracts.catalogRotationGet, { id: integrationId });
  }

  /** The rotation period of an integration, or null when it is not rotated. */
  periodMs(subject: RotationSubject): number | null {
    return subject.credentialRotationDays === null || subject.target.secret.store !== 'builtin' ? null : subject.credentialRotationDays * this.dayMs;
  }

  /**
   * One run: settle an interrupted run first, then rotate when asked to (`manual`) or when due
   * (`scheduled`); `repair` only settles. Failures are recorded on the integration and answered,
   * not thrown; what is thrown is ours (the catalog or NATS), for the caller to retry.
   */
  async run(integrationId: string, trigger: RotationTrigger, actor: Actor): Promise<RotationRunResult> {
    try {
      return await this.runLocked(integrationId, trigger, actor);
    } catch (err) {
      if (err instanceof Settled) return err.outcome;
      throw err;
    }
  }

  private async runLocked(integrationId: string, trigger: RotationTrigger, actor: Actor): Promise<RotationRunResult> {
    let subject = await this.subject(integrationId);
    if (subject.connectorId !== this.info.connectorId) {
      throw new AppException(
        ErrorCode.Conflict,
        `Integration ${integrationId} is served by connector "${subject.connectorId}", not "${this.info.connectorId}".`,
      );
    }
    const params = await this.params(subject, trigger, actor);
    let session: RotationSession;
    try {
      session = await this.credentials.lockConnectorUser(params);
    } catch (err) {
      return this.fail(
        this.runOf(subject, params, trigger, actor),
        subject.pendingRunId ? 'keep' : 'none',
        `cannot log in to take the rotation lock: ${messageOf(err)}`,
      );
    }
    try {
      // Another run may have finished while this one waited for the lock.
      subject = await this.subject(integrationId);
      let repaired: RotationRunResult | undefined;
      if (subject.pendingRunId) {
        repaired = await this.repair(this.runOf(subject, await this.params(subject, trigger, actor), trigger, actor));
        subject = await this.subject(integrationId);
      }
      if (trigger === 'repair' || (trigger === 'scheduled' && !this.isDue(subject)))
        return repaired ?? { integrationId, result: 'not-due', rotation: subject.rotation };
      return await this.rotate(subject, await this.params(subject, trigger, actor), session, trigger, actor);
    } finally {
      await session.release();
    }
  }

  /** A run that settles the staged password (when there is one) or starts a new rotation. */
  private runOf(subject: RotationSubject, params: TargetConnectionParams, trigger: RotationTrigger, actor: Actor): Run {
    return { subject, params, runId: subject.pendingRunId ?? randomUUID(), trigger, actor, secrets: secretsOf(params) };
  }

  isDue(subject: RotationSubject, now = Date.now()): boolean {
    const period = this.periodMs(subject);
    // A little early is on time: the schedule and the catalog's clock may differ by a few ms.
    return period !== null && Date.parse(subject.secretSetAt) + period <= now + Math.min(1_000, period / 100);
  }

  private async repair(run: Run): Promise<RotationRunResult> {
    const { params } = run;
    if (params.pendingPassword === undefined) {
      // The staged password is for another user, or the current secret moved on: it can only be dropped.
      return this.settle(run, 'discard', 'repaired', "the staged password no longer belongs to this integration's secret: discarded");
    }
    try {
      if (await this.credentials.canLogin({ ...params, password: params.pendingPassword })) {
        return this.settle(run, 'promote', 'repaired', 'an interrupted rotation had set the staged password on the database: made current');
      }
      if (await this.credentials.canLogin(params)) {
        return this.settle(run, 'discard', 'repaired', 'an interrupted rotation never set the staged password on the database: discarded');
      }
    } catch (err) {
      return this.fail(run, 'keep', `cannot check which password the database holds: ${messageOf(err)}`);
    }
    return this.fail(
      run,
      'keep',
      "neither the current nor the staged password logs in: someone else changed the connector user's password; replace the integration's secret",
    );
  }

  private async rotate(
    subject: RotationSubject,
    params: TargetConnectionParams,
    session: RotationSession,
    trigger: RotationTrigger,
    actor: Actor,
  ): Promise<RotationRunResult> {
    const password = generatePassword();
    const run: Run = { subject, params, runId: randomUUID(), trigger, actor, secrets: [password, ...secretsOf(params)] };
    const envelope = encryptSecret({ username: params.username, password }, this.masterKey!);
    try {
      await this.bus.request(Contracts.catalogRotationStage, { id: subject.integrationId, runId: run.runId, envelope });
    } catch (err) {
      return this.fail(run, 'none', `the new password could not be stored: ${messageOf(err)}`);
    }
    this.reached(run, 'after-stage');
    try {
      await session.setPassword(params.username, password);
    } catch (err) {
      return this.fail(run, 'discard', `the database refused the new password: ${messageOf(err)}`);
    }
    this.reached(run, 'after-set');
    try {
      if (!(await this.credentials.canLogin({ ...params, password }))) throw new Error('the server refused it');
    } catch (err) {
      return this.rollBack(run, session, `the new password did not log in (${messageOf(err)})`);
    }
    this.reached(run, 'after-verify');
    // Should the catalog not answer, the staged password stays and the next run promotes it.
    return this.settle(run, 'promote', 'rotated');
  }

  /** Puts the previous password back on the session that still holds the lock, then drops the staged one. */
  private async rollBack(run: Run, session: RotationSession, why: string): Promise<RotationRunResult> {
    try {
      await session.setPassword(run.params.username, run.params.password);
    } catch (err) {
      return this.fail(run, 'keep', `${why}, and the previous password could not be restored (${messageOf(err)}); the next run settles it`);
    }
    return this.fail(run, 'discard', `${why}; the previous password was restored`);
  }

  private async settle(run: Run, pending: PendingAction, result: Exclude<RotationResult, 'failed'>, detail?: string): Promise<RotationRunResult> {
    const rotation = await this.record(run, pending, result, detail);
    this.logger.info({ integrationId: run.subject.integrationId, runId: run.runId, trigger: run.trigger, result, detail }, 'connector credentials settled');
    await this.announce(Contracts.rotationIntegrationRotated, { ...this.eventOf(run), result, rotatedAt: rotation.lastRotatedAt ?? new Date().toISOString() });
    return { integrationId: run.subject.integrationId, result, ...(detail ? { detail } : {}), rotation };
  }

  /** Records a failure (best effort: the catalog may be what failed) and ends the run. */
  private async fail(run: Run, pending: PendingAction, reason: string): Promise<never> {
    const detail = scrub(reason, run.secrets);
    this.logger.warn(
      { integrationId: run.subject.integrationId, runId: run.runId, trigger: run.trigger, reason: detail, staged: pending },
      'rotation failed; the working credential is kept',
    );
    let rotation: RotationState = run.subject.rotation;
    try {
      rotation = await this.record(run, pending, 'failed', detail);
    } catch (err) {
      this.logger.warn({ err, integrationId: run.subject.integrationId }, 'rotation failure not recorded');
    }
    await this.announce(Contracts.rotationIntegrationFailed, { ...this.eventOf(run), reason: detail });
    throw new Settled({ integrationId: run.subject.integrationId, result: 'failed', detail, rotation });
  }

  private record(run: Run, pending: PendingAction, result: RotationResult, detail?: string): Promise<RotationState> {
    return this.bus.request(Contracts.catalogRotationRecord, {
      id: run.subject.integrationId,
      runId: run.runId,
      trigger: run.trigger,
      actor: run.actor,
      pending,
      result,
      ...(detail ? { detail: scrub(detail, run.secrets) } : {}),
    });
  }

  /** Connection parameters with the current password and, during a rotation, the staged one. */
  private async params(subject: RotationSubject, trigger: RotationTrigger, actor: Actor): Promise<TargetConnectionParams> {
    const unusable = (reason: string) =>
      this.fail(this.runOf(subject, { password: '' } as TargetConnectionParams, trigger, actor), subject.pendingRunId ? 'keep' : 'none', reason);
    if (subject.target.secret.store !== 'builtin') return unusable(`secret store ${subject.target.secret.store} cannot be rotated by Latchkey`);
    if (!this.masterKey) return unusable('no master key is loaded on this connector (LATCHKEY_MASTER_KEY): it cannot open or seal builtin secrets');
    try {
      return (await targetConnectionParams(subject.target, { masterKey: this.masterKey, applicationName: APPLICATION_NAME })).params;
    } catch (err) {
      return unusable(messageOf(err));
    }
  }

  private eventOf(run: Run) {
    return { integrationId: run.subject.integrationId, connectorId: this.info.connectorId!, runId: run.runId, trigger: run.trigger, actor: run.actor };
  }

  private async announce<P extends z.ZodType>(contract: EventContract<P>, payload: z.input<P>): Promise<void> {
    await this.bus.publish(contract, payload).catch((err: unknown) => this.logger.warn({ err, subject: contract.subject }, 'event not published'));
  }

  private reached(run: Run, step: RotationStep) {
    if (ROTATION_STEPS.hasSubscribers) ROTATION_STEPS.publish({ integrationId: run.subject.integrationId, runId: run.runId, step });
  }
}

function secretsOf(params: TargetConnectionParams): string[] {
  return [params.password, params.pendingPassword].filter((p): p is string => Boolean(p));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Removes every password the run knows from a message, whatever a server or library echoed. */
function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => (s ? t.replaceAll(s, '[redacted]') : t), text);
}
