import { Inject, Injectable } from '@nestjs/common';
import { AppException, Contracts, GrantStates, isPermanentError, RequestStates, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { AccessRequestStatus, Actor, Credentials, Grant, Integration } from '@latchkey/contracts';
import { ConnectorClient, LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { MasterKey, encryptSecret } from '@latchkey/secrets';
import { AuditTrail } from '../audit/audit-trail';
import type { AccessRequestEntity } from './access-request.entity';
import { RequestMetrics } from './request.metrics';
import { Bus, GrantJobs, RequestStore } from './requests.ports';
import type { GrantedFields } from './requests.ports';
import { endAuditEntry, requestAuditEntry } from './request-view';

/**
 * How long the job of a grant made inline waits before it runs: the safety net, not the path.
 * Long enough for a grant to finish under load; after a crash it is also how late the grant comes.
 */
export const INLINE_GRANT_SAFETY_DELAY_MS = 10_000;

export const idempotencyKeyOf = (requestId: string) => `access-request-${requestId}`;
const REQUEST_KEY = /^access-request-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** The access request a grant was made for, from its idempotency key; undefined for grants made otherwise. */
export const requestIdOf = (idempotencyKey: string): string | undefined => REQUEST_KEY.exec(idempotencyKey)?.[1];

/** What an inline grant leaves for a caller waiting on it. */
export interface GrantOutcome {
  /** The request as the grant left it (GRANTED); null when it did not end there inline (read the row). */
  request: AccessRequestEntity | null;
  /** The password, when it was handed to the waiting caller: recorded as read with the grant. */
  password: string | null;
}

const NOT_GRANTED_INLINE: GrantOutcome = { request: null, password: null };

/**
 * A caller waiting for an inline grant to hand it the password (once). The grant records the
 * password as read only while the caller still waits (`claim`); a caller that gives up waiting
 * while that record is being written waits for it instead (`abandon` is then refused), so a
 * password recorded as read always reaches the person it was read for.
 */
export class RevealOnce {
  private state: 'waiting' | 'claimed' | 'abandoned' = 'waiting';

  constructor(readonly actor: Actor) {}

  /** The grant takes the reveal: true while the caller still waits. */
  claim(): boolean {
    if (this.state !== 'waiting') return false;
    this.state = 'claimed';
    return true;
  }

  /** The caller stops waiting: true unless the grant already took the reveal. */
  abandon(): boolean {
    if (this.state !== 'waiting') return false;
    this.state = 'abandoned';
    return true;
  }
}

/**
 * Drives an approved request's grant through provisioning and mirrors what provisioning reports.
 * Every step re-reads the request and is safe to run twice: the grant's idempotency key is the
 * request id, so a retried or duplicated job yields the same single grant.
 */
@Injectable()
export class GrantLifecycle {
  /** Grants being made inline in this process, by request id: the job of the same request waits for them. */
  private readonly inline = new Map<string, Promise<void>>();

  constructor(
    private readonly requests: RequestStore,
    private readonly queue: GrantJobs,
    private readonly bus: Bus,
    private readonly connectors: ConnectorClient,
    private readonly audit: AuditTrail,
    private readonly masterKey: MasterKey,
    private readonly metrics: RequestMetrics,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /**
   * Grants a request that was just approved (committed APPROVED) at once, in this process, instead
   * of waiting for a queue hop. Its job is queued first, delayed, as the safety net: if this process
   * dies half-way or provisioning cannot answer now, the job (then the sweeper) makes the grant with
   * the same idempotency key, so it is made once; after a success the job is dropped, and a job
   * that runs anyway finds the request GRANTED and does nothing. Resolves once the job is queued;
   * the grant goes on, and `outcome` tells how it ended (see `settle`). `integration`: the
   * catalog's answer the caller already holds. `reveal`: a caller waiting to be handed the password.
   */
  async grantNow(request: AccessRequestEntity, integration?: Integration, reveal?: RevealOnce): Promise<{ outcome: Promise<GrantOutcome> }> {
    const id = request.id;
    const queued = this.queue.enqueue(id, INLINE_GRANT_SAFETY_DELAY_MS).then(
      () => true,
      // The request is APPROVED in the control database: the sweeper enqueues it once Redis is back.
      (err: unknown) => (this.logger.warn({ err, requestId: id }, 'could not enqueue the grant; the sweeper will'), false),
    );
    let settled: (outcome: GrantOutcome) => void = () => undefined;
    const outcome = new Promise<GrantOutcome>((resolve) => (settled = resolve));
    const run = this.grant(id, { request, integration, reveal })
      .then(async (result) => {
        settled(result);
        if (result.done && (await queued)) await this.queue.remove(id).catch(() => undefined);
      })
      .catch((err: unknown) =>
        this.logger.info({ err: err instanceof Error ? err.message : String(err), requestId: id }, 'inline grant not made; its job retries'),
      )
      .finally(() => {
        settled(NOT_GRANTED_INLINE);
        this.inline.delete(id);
      });
    this.inline.set(id, run);
    await queued;
    return { outcome };
  }

  /**
   * An inline grant's outcome, waited for until `deadline` (ms since the epoch); past it, the
   * request as it then stands is for the caller to read. A reveal already being written is waited for.
   */
  async settle(outcome: Promise<GrantOutcome>, deadline: number, reveal?: RevealOnce): Promise<GrantOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()))));
    const first = await Promise.race([outcome, late]).finally(() => clearTimeout(timer));
    if (first) return first;
    return !reveal || reveal.abandon() ? NOT_GRANTED_INLINE : outcome;
  }

  /** Waits for the grants this process is making inline (at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inline.values()]);
  }

  /** The grant job: APPROVED -> GRANTED (or FAILED); REVOKING before any grant -> the grant is made and taken back. */
  async runGrantJob(requestId: string): Promise<void> {
    await this.inline.get(requestId);
    await this.grant(requestId);
  }

  /** `done`: the request needs nothing more from its job; with what a caller waiting on it may be handed. */
  private async grant(
    requestId: string,
    known: { request?: AccessRequestEntity; integration?: Integration; reveal?: RevealOnce } = {},
  ): Promise<GrantOutcome & { done: boolean }> {
    const finished = { done: true, ...NOT_GRANTED_INLINE };
    const r = known.request ?? (await this.requests.findById(requestId));
    if (!r) return finished;
    const needsGrant = r.status === 'APPROVED' || (r.status === 'REVOKING' && !r.grantId);
    if (!needsGrant) return finished;

    let answer;
    let integration;
    try {
      integration = known.integration ?? (await this.connectors.recentIntegration(r.integrationId));
      answer = await this.connectors.request(Contracts.provisioningGrantsCreate, integration, {
        idempotencyKey: idempotencyKeyOf(r.id),
        integrationId: r.integrationId,
        identity: { id: r.requesterId, email: r.requesterEmail },
        items: r.items.map((i) => i.grant),
        expiresAt: new Date(Date.now() + r.durationMinutes * 60_000).toISOString(),
      });
    } catch (err) {
      // Provisioning refused the grant for good (by code): retrying cannot help.
      if (err instanceof AppException && isPermanentError(err.code)) {
        await this.fail(r.id, `the grant could not be made: ${err.message}`);
        return finished;
      }
      await this.note(r.id, `waiting for provisioning: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }

    const { grant, credentials } = answer;
    // `viewedAt`: the password handed to the caller waiting on this grant, so not kept at all.
    const grantedFields = (c: Credentials, viewedAt: Date | null = null): GrantedFields & Partial<AccessRequestEntity> => ({
      status: RequestStates.transition('APPROVED', 'GRANTED'),
      grantId: grant.id,
      grantedAt: new Date(grant.grantedAt ?? Date.now()),
      expiresAt: new Date(grant.expiresAt),
      statusReason: null,
      login: {
        host: c.host,
        port: c.port,
        database: c.database,
        username: c.username,
        sslmode: c.sslmode,
        customAccessDetails: integration.customAccessDetails,
      },
      passwordEnvelope: viewedAt ? null : encryptSecret({ username: c.username, password: c.password }, this.masterKey),
      passwordViewedAt: viewedAt,
    });
    const grantedEntry = (request: AccessRequestEntity, fields: GrantedFields, c: Credentials) =>
      requestAuditEntry('request.granted', SYSTEM_ACTOR, { ...request, ...fields }, { grantId: grant.id, username: c.username, expiresAt: grant.expiresAt });
    let granted = false;
    let outcome = NOT_GRANTED_INLINE;
    // The usual case in one statement: still APPROVED, it turns GRANTED with its entry (and, for a
    // caller waiting to be handed the password, read by them). Otherwise (revoked meanwhile, or
    // already granted by a job that ran anyway) under the row's lock, the password kept for its one read.
    if (grant.status === 'ACTIVE' && credentials && r.status === 'APPROVED') {
      const reveal = known.reveal?.claim() ? known.reveal : undefined;
      const fields = grantedFields(credentials, reveal ? new Date() : null);
      const after = { ...r, ...fields };
      const entries = [grantedEntry(r, fields, credentials)];
      if (reveal) entries.push(requestAuditEntry('request.credentials-viewed', reveal.actor, after, { inCreationAnswer: true }));
      granted = await this.requests.recordGranted(r.id, 'APPROVED', fields, this.audit.prepare(entries));
      if (granted) {
        this.audit.written();
        outcome = { request: after, password: reveal ? credentials.password : null };
      }
    }
    const revokeAfter = granted
      ? false
      : await this.requests.transaction(async (tx) => {
          const locked = await this.requests.lock(tx, r.id);
          if (!locked) return false;
          if (locked.status === 'APPROVED' && grant.status === 'ACTIVE' && credentials) {
            const fields = grantedFields(credentials);
            await this.requests.update(tx, r.id, fields);
            await this.audit.append(grantedEntry(locked, fields, credentials), tx);
            granted = true;
            return false;
          }
          // Whatever else happens, the request now knows its grant: events and the sweeper find it by that id.
          if (!locked.grantId) await this.requests.update(tx, r.id, { grantId: grant.id });
          return locked.status === 'REVOKING' && !locked.grantId ? { revokedBy: locked.revokedBy } : false;
        });
    this.logger.info({ requestId: r.id, grantId: grant.id, grantStatus: grant.status }, 'grant of access request made');
    if (granted) {
      this.metrics.granted(r, new Date(grant.grantedAt ?? Date.now()));
      await this.announce(r.id, 'GRANTED');
    }
    if (grant.status !== 'ACTIVE') {
      await this.sync(grant);
      return finished;
    }
    if (revokeAfter) await this.revokeNow({ id: r.id, integrationId: r.integrationId, grantId: grant.id, revokedBy: revokeAfter.revokedBy });
    return { done: true, ...outcome };
  }

  /**
   * Asks provisioning to revoke now, on behalf of the person who revoked the request; when it
   * cannot answer, the request stays REVOKING and the sweeper asks again. Asking twice is harmless:
   * a revocation under way keeps its reason and its backoff.
   */
  async revokeNow(r: Pick<AccessRequestEntity, 'id' | 'grantId' | 'integrationId' | 'revokedBy'>): Promise<void> {
    try {
      const grant = await this.connectors.request(Contracts.provisioningGrantsRevoke, r.integrationId, {
        id: r.grantId!,
        revokedBy: r.revokedBy ?? SYSTEM_ACTOR,
      });
      await this.sync(grant);
    } catch (err) {
      this.logger.warn({ err, requestId: r.id }, 'revocation not confirmed yet; the sweeper retries');
      await this.note(r.id, `revocation pending: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Mirrors a grant's state onto its request (from an event, an answer or the sweeper). */
  async sync(grant: Grant): Promise<void> {
    // Grants made otherwise (the admin grants API) are none of the access service's business: no query for them.
    const requestId = requestIdOf(grant.idempotencyKey);
    if (!requestId) return;
    let changedTo: AccessRequestStatus | undefined;
    let unviewed = false;
    await this.requests.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, requestId);
      if (!locked || (locked.grantId !== null && locked.grantId !== grant.id)) return;
      if (RequestStates.ENDED.includes(locked.status)) return;
      if (locked.grantId === null) await this.requests.update(tx, requestId, { grantId: grant.id });
      if (GrantStates.HOLDING_ACCESS.includes(grant.status)) {
        if (locked.status === 'GRANTED' && locked.expiresAt?.toISOString() !== new Date(grant.expiresAt).toISOString()) {
          await this.requests.update(tx, requestId, { expiresAt: new Date(grant.expiresAt) });
        }
        return;
      }
      if (GrantStates.BEING_REVOKED.includes(grant.status)) {
        const statusReason =
          grant.status === 'STUCK'
            ? `revocation stuck after ${grant.attempts} attempts (still retried): ${grant.lastError ?? 'unknown error'}`
            : locked.statusReason;
        if (locked.status !== 'REVOKING' || statusReason !== locked.statusReason) {
          // Already REVOKING: only its reason changes.
          const status = locked.status === 'REVOKING' ? locked.status : RequestStates.transition(locked.status, 'REVOKING');
          await this.requests.update(tx, requestId, { status, statusReason });
          changedTo = status;
        }
        return;
      }
      if (GrantStates.ENDED.includes(grant.status)) {
        const status = RequestStates.transition(locked.status, grant.status === 'EXPIRED' ? 'EXPIRED' : grant.status === 'REVOKED' ? 'REVOKED' : 'FAILED');
        // Who revoked it: the person who revoked the request, else whoever revoked the grant itself (an admin).
        const revokedBy = status === 'REVOKED' ? (locked.revokedBy ?? grant.revokedBy ?? SYSTEM_ACTOR) : null;
        const fields: Partial<AccessRequestEntity> = {
          status,
          endedAt: new Date(grant.endedAt ?? Date.now()),
          revokedBy,
          // Nothing of the login is kept once it is over.
          passwordEnvelope: null,
          statusReason: status === 'FAILED' ? grant.lastError : locked.status === 'REVOKING' ? null : locked.statusReason,
        };
        await this.requests.update(tx, requestId, fields);
        changedTo = status;
        unviewed = locked.grantedAt !== null && locked.passwordViewedAt === null;
        // The one audit entry of the end, written with the end itself (under the row lock, so once),
        // whichever path finished it: the grant job, an event, the sweeper, a stuck revocation's retry.
        await this.audit.append(
          endAuditEntry(
            { ...locked, ...fields },
            { grantId: grant.id, reason: grant.lastError, ...(locked.revokedBy && status !== 'REVOKED' ? { revocationAskedBy: locked.revokedBy } : {}) },
          ),
          tx,
        );
      }
    });
    if (changedTo) await this.announce(requestId, changedTo, unviewed);
  }

  /** Re-reads a grant from provisioning (for the sweeper). */
  async refresh(r: Pick<AccessRequestEntity, 'id' | 'grantId' | 'integrationId'>): Promise<void> {
    await this.sync(await this.connectors.request(Contracts.provisioningGrantsGet, r.integrationId, { id: r.grantId! }));
  }

  private async fail(id: string, reason: string) {
    const status = await this.requests.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, id);
      if (!locked || !RequestStates.AWAITING_PROVISIONING.includes(locked.status)) return undefined;
      const fields: Partial<AccessRequestEntity> = {
        status: RequestStates.transition(locked.status, locked.status === 'REVOKING' ? 'REVOKED' : 'FAILED'),
        endedAt: new Date(),
        statusReason: reason,
      };
      await this.requests.update(tx, id, fields);
      await this.audit.append(endAuditEntry({ ...locked, ...fields }, { reason }), tx);
      return fields.status;
    });
    if (status) await this.announce(id, status);
  }

  /** Tells listeners (dashboards, notifications, the bench) and the metrics that a request moved; best effort, the row is the truth. `unviewed`: it ended with credentials nobody read. */
  async announce(id: string, status: AccessRequestStatus, unviewed = false): Promise<void> {
    this.metrics.moved(status, unviewed);
    await this.bus
      .publish(Contracts.accessRequestChanged, { id, status })
      .catch((err: unknown) => this.logger.warn({ err, requestId: id }, 'request change not published'));
  }

  /** Why a request is not moving, without changing its status. */
  private async note(id: string, reason: string) {
    await this.requests.transaction((tx) => this.requests.update(tx, id, { statusReason: reason.slice(0, 1000) }));
  }
}
