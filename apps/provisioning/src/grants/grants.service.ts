import { Inject, Injectable, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Actor,
  AppException,
  checksBlockingGrants,
  Contracts,
  Credentials,
  ErrorCode,
  Grant,
  GrantItem,
  GrantStates,
  GrantStatus,
  PersonIdentity,
} from '@latchkey/contracts';
import type { OutboxEntry } from '@latchkey/persistence';
import { classifyDatabaseError, LOGGER, MessageBus, SERVICE_INFO, toAppException, withFix } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { generatePassword, GrantError, personalRoleName, TargetDatabase } from '@latchkey/pg-access';
import { decryptSecret, encryptSecret, MasterKey } from '@latchkey/secrets';
import { RevocationService, type EventPublisher, type TargetLookup } from '../revocations/revocation.service';
import { RevocationQueue } from '../revocations/revocation.queue';
import { decodePageToken, encodePageToken } from '@latchkey/persistence';
import { GrantEntity } from '../store/grant.entity';
import { toView } from '../store/grant-view';
import { GrantsRepository } from '../store/grants.repository';
import { PROVISIONING_SETTINGS } from '../target/provisioning-settings';
import type { ProvisioningSettings } from '../target/provisioning-settings';
import { type ResolvedTarget, TargetResolver } from '../target/target-resolver';

/** The idempotency key belongs to a grant made before: the first attempt's SQL is rolled back, the grant replayed. */
class KeyTaken extends Error {
  constructor() {
    super('the idempotency key was taken already');
  }
}

/** SQLSTATE insufficient_privilege. */
const INSUFFICIENT_PRIVILEGE = '42501';
/** A failure's reason with its fix SQL (at most 20 statements) fits. */
const MAX_FAILURE_CHARS = 8000;

/** What granting needs of its neighbours, narrow so that unit tests hand-write them. */
export type GrantRows = Pick<
  GrantsRepository,
  'insertOnce' | 'findById' | 'withLock' | 'transition' | 'activate' | 'beginRevocation' | 'recordFailure' | 'touchRole' | 'page'
>;
export type Revocations = Pick<RevocationService, 'run' | 'undo'>;
export type RevocationJobs = Pick<RevocationQueue, 'schedule' | 'cancel' | 'ensure' | 'runNow'>;
export type GrantOnTarget = Pick<TargetDatabase, 'applyGrant' | 'runPreflight' | 'setPassword' | 'setValidUntil'>;

/** What a grant's SQL is made of: the person, their role, the expiry, the connection limit and the items. */
type GrantShape = Pick<GrantEntity, 'identityId' | 'identityEmail' | 'roleName' | 'expiresAt' | 'connectionLimit' | 'items'>;

export interface GrantCommand {
  idempotencyKey: string;
  integrationId: string;
  identity: PersonIdentity;
  items: GrantItem[];
  expiresAt: string;
  connectionLimit: number;
  /** A person granting directly (the admin grants API): audited here. */
  actor?: Actor;
}

/**
 * The audit entry of a person's direct action on a grant. Grants of access requests carry no
 * actor: the access service audits those requests itself.
 */
export function grantAuditEntry(action: string, actor: Actor, grant: GrantEntity, details: Record<string, unknown> = {}): OutboxEntry {
  return {
    action,
    actor,
    targetType: 'grant',
    targetId: grant.id,
    targetName: `${grant.identityEmail} on integration ${grant.integrationId}`,
    details: {
      status: grant.status,
      integrationId: grant.integrationId,
      identity: { id: grant.identityId, email: grant.identityEmail },
      role: grant.roleName,
      ...details,
    },
  };
}

@Injectable()
export class GrantsService {
  constructor(
    @Inject(GrantsRepository) private readonly grants: GrantRows,
    @Inject(TargetResolver) private readonly targets: TargetLookup,
    @Inject(RevocationService) private readonly revocations: Revocations,
    @Inject(RevocationQueue) private readonly queue: RevocationJobs,
    @Inject(TargetDatabase) private readonly database: GrantOnTarget,
    @Inject(MessageBus) private readonly bus: EventPublisher,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(PROVISIONING_SETTINGS) private readonly settings: ProvisioningSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  /**
   * Makes a grant, once per idempotency key: the row first (so the sweeper can finish or undo a
   * crash), then the revocation job (so expiry can never be missed), then the SQL on the target.
   * The target's session, the role's lock and its read overlap the row's insert; nothing changes
   * there for the person before the row is written (applyGrant's `ready`), and nothing at all when
   * the key was taken already.
   */
  async create(command: GrantCommand): Promise<{ grant: Grant; credentials: Credentials | null }> {
    const key = this.requireMasterKey();
    const expiresAt = new Date(command.expiresAt);
    if (expiresAt.getTime() <= Date.now()) throw AppException.validation([{ field: 'expiresAt', rule: 'must be in the future' }]);
    const target = await this.targets.resolve(command.integrationId);
    const roleName = personalRoleName(command.identity);
    const password = generatePassword();

    const inserting = this.grants.insertOnce(
      {
        idempotencyKey: command.idempotencyKey,
        integrationId: command.integrationId,
        connectorId: this.info.connectorId!,
        identityId: command.identity.id,
        identityEmail: command.identity.email,
        roleName,
        items: command.items,
        connectionLimit: command.connectionLimit,
        status: 'GRANTING',
        expiresAt,
        attempts: 0,
        passwordEnvelope: encryptSecret({ username: roleName, password }, key),
      },
      command.actor ? (row) => grantAuditEntry('grant.created', command.actor!, row, { items: row.items, expiresAt: row.expiresAt.toISOString() }) : undefined,
    );
    const ready = inserting.then(({ created }) => {
      if (!created) throw new KeyTaken();
    });
    ready.catch(() => undefined);
    const shape = {
      identityId: command.identity.id,
      identityEmail: command.identity.email,
      roleName,
      expiresAt,
      connectionLimit: command.connectionLimit,
      items: command.items,
    };
    const firstAttempt = this.database.applyGrant(target.params, this.grantSql(shape, password, ready));
    firstAttempt.catch(() => undefined);
    const { grant, created } = await inserting;
    if (!created) {
      await firstAttempt.catch(() => undefined);
      return this.replay(grant, command, target);
    }
    return this.execute(grant, target, { password, firstAttempt });
  }

  /** The same key again: the same grant, finished if a crash left it half-way. */
  private async replay(grant: GrantEntity, command: GrantCommand, target: ResolvedTarget) {
    if (grant.integrationId !== command.integrationId || grant.identityId !== command.identity.id) {
      throw new AppException(ErrorCode.Conflict, 'This idempotency key belongs to another grant.');
    }
    if (grant.status === 'GRANTING') return this.execute(grant, target);
    return { grant: toView(grant), credentials: grant.status === 'ACTIVE' ? this.credentials(grant, target) : null };
  }

  /** The grant's SQL and its revocation job; `started` when its password and the SQL's first attempt come from create(). */
  private async execute(grant: GrantEntity, target: ResolvedTarget, started?: { password: string; firstAttempt: Promise<unknown> }) {
    const password = started?.password ?? this.password(grant);
    // The revocation job and the SQL in parallel: a crash between them leaves the grant GRANTING,
    // which the sweeper rolls back; the grant turns ACTIVE only once both are done.
    const scheduled = this.queue.schedule(grant.id, grant.expiresAt);
    try {
      await this.applyWithRetries(grant, password, target, started?.firstAttempt);
    } catch (err) {
      await scheduled.catch(() => undefined);
      if (classifyDatabaseError(err) !== 'permanent') return this.postpone(grant, err);
      return this.fail(grant, err, target);
    }
    try {
      await scheduled;
    } catch (err) {
      // The role exists on the target now: it is marked in use, whatever happens to the grant.
      await this.grants.touchRole(grant.integrationId, grant.roleName, grant.connectorId, grant.identityId);
      throw err;
    }
    // ACTIVE and the role marked in use, in one statement.
    const active = await this.grants.activate(grant, new Date());
    if (!active) {
      // Revoked or rolled back while the SQL ran: the revocation path owns it now.
      const now = await this.grants.findById(grant.id);
      return { grant: toView(now!), credentials: null };
    }
    // No event: the caller is answered with the grant, and nothing listens for one.
    this.logger.info({ grantId: grant.id, integrationId: grant.integrationId, role: grant.roleName, items: grant.items.length }, 'grant active');
    return { grant: toView(active), credentials: this.credentials(active, target, password) };
  }

  /**
   * The grant's SQL, tried again with backoff while the target fails for a reason that passes
   * (starting up, shutting down, unreachable, too many connections, a deadlock): applyGrant is
   * idempotent. A permanent refusal is thrown at once.
   */
  private async applyWithRetries(grant: GrantEntity, password: string, first: ResolvedTarget, firstAttempt?: Promise<unknown>): Promise<void> {
    for (let retry = 0; ; retry += 1) {
      // Resolved afresh on each retry: a secret rotated meanwhile is picked up.
      const target = retry === 0 ? first : await this.targets.resolve(grant.integrationId);
      try {
        await (retry === 0 && firstAttempt ? firstAttempt : this.database.applyGrant(target.params, this.grantSql(grant, password)));
        return;
      } catch (err) {
        const delay = this.settings.grantRetryDelaysMs[retry];
        if (delay === undefined || classifyDatabaseError(err) === 'permanent') throw err;
        this.logger.warn({ grantId: grant.id, err: messageOf(err), retryInMs: delay }, 'grant hit a transient target error; retrying');
        await sleep(delay);
      }
    }
  }

  /**
   * The target is unavailable for now: nothing is rolled back and the grant stays GRANTING with
   * its error, so the caller's retry (the access service's grant job, with backoff) finishes it
   * with the same idempotency key. A grant nobody comes back for is rolled back by the sweeper
   * after GRANTING_TIMEOUT_SECONDS.
   */
  private async postpone(grant: GrantEntity, err: unknown): Promise<never> {
    const message = messageOf(err);
    await this.grants.recordFailure(grant.id, message);
    this.logger.warn({ grantId: grant.id, err: message }, 'grant postponed: the target is unavailable for now');
    throw toAppException(err, { database: 'target' });
  }

  /** Nothing is left behind: whatever the half-made grant created for this person is taken back. */
  private async fail(grant: GrantEntity, err: unknown, target: ResolvedTarget) {
    const message = await this.failureReason(grant, err, target);
    this.logger.warn({ grantId: grant.id, err: message }, 'grant failed; rolling back');
    await this.grants.recordFailure(grant.id, message);
    try {
      await this.revocations.undo(grant);
    } catch (undoErr) {
      // The row stays GRANTING: the sweeper rolls it back once the target answers again.
      this.logger.error({ grantId: grant.id, err: undoErr }, 'rollback failed; the sweeper will retry');
      throw new AppException(ErrorCode.ServiceUnavailable, `The grant could not be made: ${message}`);
    }
    const failed = await this.grants.transition(grant.id, 'FAILED', { endedAt: new Date(), lastError: message.slice(0, MAX_FAILURE_CHARS) });
    await this.queue.cancel(grant.id);
    if (failed) await this.publishFailed(failed);
    return { grant: toView(failed ?? (await this.grants.findById(grant.id))!), credentials: null };
  }

  /**
   * Why a grant failed, in words a person can act on: when the connector lacks a privilege, the SQL
   * that grants it (from the error itself, else from a preflight of the items' databases).
   */
  private async failureReason(grant: GrantEntity, err: unknown, target: ResolvedTarget): Promise<string> {
    const message = messageOf(err);
    let fix = err instanceof GrantError ? err.fix : undefined;
    if (!fix && (err as { code?: string }).code === INSUFFICIENT_PRIVILEGE) {
      try {
        const report = await this.database.runPreflight(target.params, { connectorId: grant.connectorId });
        const scope = { databases: [...new Set(grant.items.map((i) => i.database))], roles: grant.items.some((i) => i.resourceType === 'postgresql-role') };
        fix =
          checksBlockingGrants(report, scope)
            .map((c) => c.fix)
            .filter((f): f is string => !!f)
            .join('\n') || undefined;
      } catch (preflightErr) {
        this.logger.warn({ grantId: grant.id, err: preflightErr }, 'preflight for a failed grant did not run');
      }
    }
    return fix ? withFix(message, fix) : message;
  }

  async get(id: string): Promise<Grant> {
    return toView(await this.load(id));
  }

  async list(filter: { integrationId?: string; status?: GrantStatus }, pageSize: number, pageToken?: string) {
    const after = pageToken ? decodePageToken(pageToken) : undefined;
    if (pageToken && !after) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token from a previous page' }]);
    const rows = await this.grants.page({ connectorId: this.info.connectorId!, ...filter }, pageSize, after);
    const items = rows.slice(0, pageSize).map(toView);
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken(last) } : { items };
  }

  /**
   * Ends a grant now. A grant still holding access starts its revocation at once (REVOKED by
   * `revokedBy`, or EXPIRED if its time has already run out); if the target refuses, its job retries
   * with backoff. A grant whose revocation is already under way keeps its reason and its backoff:
   * asking again only makes sure its job exists. An admin's direct revocation (`actor`) is audited
   * as `grant.revoked` with the change.
   */
  async revoke(id: string, revokedBy: Actor, actor?: Actor): Promise<Grant> {
    const grant = await this.load(id);
    if (GrantStates.ENDED.includes(grant.status)) return toView(grant);
    const audit = actor
      ? (row: GrantEntity) => grantAuditEntry('grant.revoked', actor, row, { previousStatus: grant.status, endReason: row.endReason })
      : undefined;
    const begun = await this.grants.beginRevocation(id, revokedBy, audit);
    if (!begun) {
      const now = await this.load(id);
      if (GrantStates.BEING_REVOKED.includes(now.status)) await this.queue.ensure(id);
      return toView(now);
    }
    this.logger.info({ grantId: id, endReason: begun.endReason, revokedBy: begun.revokedBy?.id }, 'grant revocation asked');
    await this.queue.runNow(id);
    return toView(await this.revocations.run(id, { throwOnFailure: false }));
  }

  /** Moves the expiry later; concurrent extensions of one grant run one at a time (see GrantsRepository.withLock). An admin's (`actor`) is audited with the change. */
  async extend(id: string, expiresAtIso: string, actor?: Actor): Promise<Grant> {
    await this.load(id);
    const expiresAt = new Date(expiresAtIso);
    const extended = await this.grants.withLock(id, async (grant, save) => {
      if (grant!.status !== 'ACTIVE') throw new AppException(ErrorCode.Conflict, `Only an ACTIVE grant can be extended; this one is ${grant!.status}.`);
      if (expiresAt.getTime() <= Math.max(Date.now(), grant!.expiresAt.getTime())) {
        throw AppException.validation([{ field: 'expiresAt', rule: 'must be later than the current expiry' }]);
      }
      const target = await this.targets.resolve(grant!.integrationId);
      await onTarget(() => this.database.setValidUntil(target.params, grant!.roleName, new Date(expiresAt.getTime() + this.settings.graceSeconds * 1000)));
      const before = grant!.expiresAt.toISOString();
      const audit = actor
        ? (row: GrantEntity) => grantAuditEntry('grant.extended', actor, row, { expiresAt: { before, after: expiresAt.toISOString() } })
        : undefined;
      const saved = await save({ expiresAt }, audit);
      // Inside the lock: the revocation job of the last extension is the one that stays.
      await this.queue.schedule(id, expiresAt, { replace: true });
      return saved;
    });
    this.logger.info({ grantId: id, expiresAt }, 'grant extended');
    return toView(extended);
  }

  /** A new password for an active grant; the old one stops working at once. */
  async resetCredentials(id: string, actor?: Actor): Promise<{ grant: Grant; credentials: Credentials | null }> {
    const key = this.requireMasterKey();
    await this.load(id);
    // Under the row lock: two resets at once leave the target and the stored password agreeing.
    const [updated, target] = await this.grants.withLock(id, async (grant, save) => {
      if (grant!.status !== 'ACTIVE') throw new AppException(ErrorCode.Conflict, `Only an ACTIVE grant has credentials; this one is ${grant!.status}.`);
      const resolved = await this.targets.resolve(grant!.integrationId);
      const password = generatePassword();
      await onTarget(() =>
        this.database.setPassword(
          resolved.params,
          grant!.roleName,
          password,
          new Date(grant!.expiresAt.getTime() + this.settings.graceSeconds * 1000),
          this.settings.scramIterations,
        ),
      );
      const audit = actor ? (row: GrantEntity) => grantAuditEntry('grant.credentials-reset', actor, row) : undefined;
      return [await save({ passwordEnvelope: encryptSecret({ username: grant!.roleName, password }, key) }, audit), resolved] as const;
    });
    this.logger.info({ grantId: id }, 'grant credentials reset');
    return { grant: toView(updated), credentials: this.credentials(updated, target) };
  }

  /** What applyGrant makes of a grant: its login until the expiry and a grace, as a backstop to revocation. */
  private grantSql(grant: GrantShape, password: string, ready?: Promise<unknown>): Parameters<GrantOnTarget['applyGrant']>[1] {
    return {
      role: grant.roleName,
      password,
      validUntil: new Date(grant.expiresAt.getTime() + this.settings.graceSeconds * 1000),
      scramIterations: this.settings.scramIterations,
      connectionLimit: grant.connectionLimit,
      comment: `Latchkey personal login of ${grant.identityEmail} (identity ${grant.identityId})`,
      items: grant.items,
      ...(ready ? { ready } : {}),
    };
  }

  /**
   * The person may connect only to the databases of their items: the details name the first.
   * `password`: the grant's, when the caller holds it already (else opened from its envelope).
   */
  private credentials(grant: GrantEntity, target: ResolvedTarget, password?: string): Credentials {
    return {
      host: target.config.hostname,
      port: target.config.port,
      database: grant.items[0]?.database ?? target.config.dbname,
      username: grant.roleName,
      password: password ?? this.password(grant),
      sslmode: target.config.sslmode,
    };
  }

  private password(grant: GrantEntity): string {
    return decryptSecret(grant.passwordEnvelope!, this.requireMasterKey()).password;
  }

  private requireMasterKey(): MasterKey {
    if (!this.masterKey) {
      throw new AppException(ErrorCode.ServiceUnavailable, 'This connector has no master key (LATCHKEY_MASTER_KEY): it cannot protect generated passwords.');
    }
    return this.masterKey;
  }

  private async load(id: string): Promise<GrantEntity> {
    const grant = await this.grants.findById(id);
    if (!grant || grant.connectorId !== this.info.connectorId) throw new AppException(ErrorCode.NotFound, `No grant with id ${id}.`);
    return grant;
  }

  /** Tells the access service at once (its grant job would find out on its next try). */
  private publishFailed(grant: GrantEntity) {
    return this.bus
      .publish(Contracts.provisioningGrantFailed, { grant: toView(grant) })
      .catch((err: unknown) => this.logger.warn({ err, grantId: grant.id }, 'grant failed event not sent'));
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs work on the target; a failure that passes is a retryable 503 naming the target, not the control database. */
async function onTarget<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw classifyDatabaseError(err) === 'permanent' ? err : toAppException(err, { database: 'target' });
  }
}
