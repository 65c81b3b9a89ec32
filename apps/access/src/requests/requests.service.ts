import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { actorOfCaller as actorOf, AppException, Contracts, ErrorCode, RequestStates, SYSTEM_ACTOR } from '@latchkey/contracts';
import type {
  AccessDetails,
  AccessRequest,
  AccessRequestsCreated,
  AccessRequestStatus,
  Actor,
  Approval,
  Caller,
  GrantItem,
  Integration,
  Resource,
  ValidAccessRequest,
  ValidationIssue,
} from '@latchkey/contracts';
import { ConnectorClient, LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { MasterKey, decryptSecret } from '@latchkey/secrets';
import { AuditTrail } from '../audit/audit-trail';
import type { Tx } from '../control-database/transactions.repository';
import { isApproved, PeopleDirectory, resolveApprovers } from '../flows/approvers';
import { dueEscalationTier } from './access-request.entity';
import type { AccessRequestEntity, EscalationTierState, StoredItem } from './access-request.entity';
import { GrantLifecycle, RevealOnce } from './grant-lifecycle.service';
import type { GrantOutcome } from './grant-lifecycle.service';
import { ActiveFlows, BadRequestPageTokenError, Bus, GrantJobs, RequestStore } from './requests.ports';
import type { DecisionFields, RequestPageQuery } from './requests.ports';
import { RecentResources } from './recent-resources';
import { RequestMetrics } from './request.metrics';
import { planRequest, WantedItem } from './request-planner';
import { endAuditEntry, requestAuditEntry, toAccessDetails, toRequestView } from './request-view';

/** The default of ACCESS_PENDING_EXPIRY_MINUTES: how long a request may wait for a decision when its flow does not say. */
export const PENDING_EXPIRY_MINUTES = Symbol('PENDING_EXPIRY_MINUTES');

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No access request with id ${id}.`);
const forbidden = (message: string) => new AppException(ErrorCode.Forbidden, message);
/** "A", "A or B", "A, B or C". */
const either = (statuses: readonly AccessRequestStatus[]) =>
  statuses.length > 1 ? `${statuses.slice(0, -1).join(', ')} or ${statuses.at(-1)}` : statuses.join('');
const wrongStatus = (r: { status: AccessRequestStatus }, action: string, ...allowed: AccessRequestStatus[]) =>
  new AppException(ErrorCode.Conflict, `Cannot ${action} a request that is ${r.status}; only ${either(allowed)} requests.`, { status: r.status });

@Injectable()
export class RequestsService {
  constructor(
    private readonly requests: RequestStore,
    private readonly flows: ActiveFlows,
    private readonly people: PeopleDirectory,
    private readonly bus: Bus,
    private readonly connectors: ConnectorClient,
    private readonly audit: AuditTrail,
    private readonly queue: GrantJobs,
    private readonly lifecycle: GrantLifecycle,
    private readonly masterKey: MasterKey,
    private readonly metrics: RequestMetrics,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(PENDING_EXPIRY_MINUTES) private readonly pendingExpiryMinutes: number,
    private readonly recentResources: RecentResources,
  ) {}

  /**
   * Matches the items to the flows that allow them and makes one request per (flow, integration).
   * Nothing is created when any item is denied (403 with every reason) or on a dry run.
   */
  async create(caller: Caller, input: ValidAccessRequest): Promise<AccessRequestsCreated> {
    const deadline = Date.now() + input.waitSeconds * 1000;
    const items = await this.resolveItems(input.items);
    const justification = input.justification ? input.justification : undefined;
    const integrationIds = [...new Set(items.map((i) => i.resource.integrationId))];
    // Each integration (a recent read is reused) while the flows are read (one wait, not two); a
    // read is awaited only by a planned request, so a denied request still answers 403 at once.
    const integrationReads = new Map(
      integrationIds.map((id) => {
        const read = this.connectors.recentIntegration(id);
        read.catch(() => undefined);
        return [id, read] as const;
      }),
    );
    const flows = await this.flows.activeFor(integrationIds);
    const now = new Date();
    const plan = planRequest({ caller, items, durationMinutes: input.durationMinutes, justification, flows, now });
    if (!plan.ok) {
      const summary = plan.denials.map((d) => d.reasons.join('; ')).join(' | ');
      throw new AppException(ErrorCode.Forbidden, `No access flow allows this request: ${summary}`, { denials: plan.denials });
    }

    const rows: Array<Omit<AccessRequestEntity, 'id'>> = [];
    const integrations = new Map<string, Integration>();
    for (const planned of plan.requests) {
      const integration = await (integrationReads.get(planned.integrationId) ?? this.connectors.recentIntegration(planned.integrationId));
      integrations.set(integration.id, integration);
      const approvers = planned.flow.approvers;
      const approverGroups = approvers
        ? await resolveApprovers({ approvers, integration, resources: planned.items.map((i) => i.resource), requesterId: caller.userId }, this.people)
        : [];
      const automatic = approvers === null;
      const escalation: EscalationTierState[] = [];
      for (const tier of automatic ? [] : (planned.flow.settings.escalation ?? [])) {
        const groups = await resolveApprovers(
          { approvers: { mode: 'ANY_OF', groups: tier.approvers }, integration, resources: planned.items.map((i) => i.resource), requesterId: caller.userId },
          this.people,
        );
        escalation.push({ afterMinutes: tier.afterMinutes, dueAt: new Date(now.getTime() + tier.afterMinutes * 60_000).toISOString(), groups });
      }
      rows.push({
        status: automatic ? 'APPROVED' : 'PENDING',
        requesterId: caller.userId,
        requesterEmail: caller.email,
        flowId: planned.flow.id,
        flowName: planned.flow.name,
        flowLimits: {
          maxDurationMinutes: planned.flow.maxDurationMinutes,
          maxExtensions: planned.flow.settings.maxExtensions,
          approverReasonRequired: planned.flow.settings.approverReasonRequired,
          pendingExpiryMinutes: planned.flow.settings.pendingExpiryMinutes ?? this.pendingExpiryMinutes,
          ...(!automatic && planned.flow.settings.reminders ? { reminders: planned.flow.settings.reminders } : {}),
          ...(escalation.length ? { escalation } : {}),
        },
        integrationId: planned.integrationId,
        items: planned.items.map((item) => storedItem(item, integration)),
        justification: justification ?? null,
        durationMinutes: input.durationMinutes,
        approvalMode: approvers ? approvers.mode : 'AUTOMATIC',
        approverGroups,
        approverIds: [...new Set(approverGroups.flatMap((g) => g.approverIds))],
        approvals: [],
        createdAt: now,
        updatedAt: now,
        decidedAt: automatic ? now : null,
        grantedAt: null,
        expiresAt: null,
        endedAt: null,
        extensions: 0,
        grantId: null,
        statusReason: null,
        login: null,
        passwordEnvelope: null,
        passwordViewedAt: null,
        revokedBy: null,
      });
    }
    if (input.dryRun) return { dryRun: true, requests: rows.map((r) => toRequestView({ ...r, id: null })) };

    const entriesOf = (r: AccessRequestEntity) => {
      const warnings = toRequestView(r).warnings.map((w) => w.message);
      const created = requestAuditEntry('request.created', actorOf(caller), r, {
        items: r.items.map((i) => `${i.permission} ${i.path}`),
        durationMinutes: r.durationMinutes,
        justification: r.justification,
        approvers: r.approverGroups.map((g) => g.approverEmails),
        ...(warnings.length ? { warnings } : {}),
      });
      return r.status === 'APPROVED' ? [created, requestAuditEntry('request.approved', SYSTEM_ACTOR, r, { automatic: true })] : [created];
    };
    let saved: AccessRequestEntity[];
    if (rows.length === 1) {
      // One request, the usual case: the row and its entries in one statement.
      const r: AccessRequestEntity = { ...rows[0]!, id: randomUUID() };
      await this.requests.insertAudited(r, this.audit.prepare(entriesOf(r)));
      this.audit.written();
      saved = [r];
    } else {
      saved = await this.requests.transaction(async (tx) => {
        const out: AccessRequestEntity[] = [];
        for (const row of rows) {
          const r = await this.requests.insert(tx, row);
          await this.audit.appendAll(entriesOf(r), tx);
          out.push(r);
        }
        return out;
      });
    }
    const inline = new Map<string, { outcome: Promise<GrantOutcome>; reveal?: RevealOnce }>();
    for (const r of saved) {
      this.logger.info({ requestId: r.id, flowId: r.flowId, status: r.status }, 'access request created');
      this.metrics.created(r);
      await this.lifecycle.announce(r.id, r.status);
      if (r.status !== 'APPROVED') continue;
      const reveal = input.revealCredentials ? new RevealOnce(actorOf(caller)) : undefined;
      inline.set(r.id, { ...(await this.lifecycle.grantNow(r, integrations.get(r.integrationId), reveal)), reveal });
    }
    if (input.waitSeconds === 0 || inline.size === 0) return { dryRun: false, requests: saved.map(toRequestView) };
    return this.answerAfterGrants(saved, inline, deadline, input.revealCredentials);
  }

  /**
   * The answer once the inline grants are made or the deadline passed: each request as it then
   * stands, and with `reveal` the access details of those granted, their password read by this answer.
   */
  private async answerAfterGrants(
    saved: AccessRequestEntity[],
    inline: Map<string, { outcome: Promise<GrantOutcome>; reveal?: RevealOnce }>,
    deadline: number,
    reveal: boolean,
  ): Promise<AccessRequestsCreated> {
    const outcomes = new Map(
      await Promise.all([...inline].map(async ([id, { outcome, reveal: once }]) => [id, await this.lifecycle.settle(outcome, deadline, once)] as const)),
    );
    const requests: AccessRequest[] = [];
    const accessDetails: AccessDetails[] = [];
    for (const r of saved) {
      const outcome = outcomes.get(r.id);
      // Not granted inline within the wait: the row says where it stands (granted by its job, failed, still APPROVED).
      const now = outcome?.request ?? (outcome ? ((await this.requests.findById(r.id)) ?? r) : r);
      requests.push(toRequestView(now));
      if (outcome?.request && outcome.password !== null) accessDetails.push(toAccessDetails(outcome.request, outcome.password));
    }
    return { dryRun: false, requests, ...(reveal ? { accessDetails } : {}) };
  }

  async get(caller: Caller, id: string): Promise<AccessRequest> {
    const r = await this.requests.findById(id);
    if (!r || !this.canSee(caller, r)) throw notFound(id);
    return toRequestView(r);
  }

  /** The requests of those ids that exist and the caller may see; the others are left out, as `get` answers not found. */
  async getMany(caller: Caller, ids: readonly string[]): Promise<AccessRequest[]> {
    const rows = await this.requests.findByIds([...new Set(ids)]);
    return rows.filter((r) => this.canSee(caller, r)).map(toRequestView);
  }

  async list(caller: Caller, query: RequestPageQuery) {
    try {
      const page = await this.requests.page({
        ...query,
        ...(caller.role === 'admin' ? {} : { visibleTo: caller.userId }),
        ...(query.awaitingMyApproval ? { awaitingApprovalBy: caller.userId } : {}),
      });
      return { items: page.items.map(toRequestView), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
    } catch (err) {
      if (err instanceof BadRequestPageTokenError) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token from a previous page' }]);
      throw err;
    }
  }

  /**
   * Records the caller's approval. ANY_OF: one approver settles it; ALL_OF: each group needs one
   * of its members (one person's approval counts for every group they are in). An admin who is
   * not among the approvers settles every group. The requester never approves.
   */
  async approve(caller: Caller, id: string, reason: string | undefined): Promise<AccessRequest> {
    // The usual case in one statement: the approval and its entry written if the row is still as
    // read. Otherwise (another decision meanwhile) decided again under the row's lock.
    let approved: AccessRequestEntity | null = null;
    const read = await this.requests.findById(id);
    if (read) {
      const { fields, next, entry } = this.approval(caller, id, read, reason);
      if (await this.requests.recordDecision(id, read, fields, this.audit.prepare([entry]))) {
        this.audit.written();
        approved = next;
      }
    }
    approved ??= await this.requests.transaction(async (tx) => {
      const r = await this.requests.lock(tx, id);
      const { fields, next, entry } = this.approval(caller, id, r, reason);
      await this.requests.update(tx, id, fields);
      await this.audit.append(entry, tx);
      return next;
    });
    if (approved.status === 'APPROVED') {
      this.metrics.approved(approved);
      await this.lifecycle.announce(id, 'APPROVED');
      await this.lifecycle.grantNow(approved);
    }
    return toRequestView(approved);
  }

  /** The caller's approval of request `id` as it stands (`r`): the fields it changes, the request after it, its audit entry; throws when the caller may not. */
  private approval(caller: Caller, id: string, r: AccessRequestEntity | null, reason: string | undefined) {
    if (!r || !this.canSee(caller, r)) throw notFound(id);
    this.checkDecider(caller, r, reason);
    if (r.approvals.some((a) => a.userId === caller.userId)) throw new AppException(ErrorCode.Conflict, 'You already approved this request.');
    const now = new Date();
    const tier = r.approverIds.includes(caller.userId) ? null : dueEscalationTier(r.flowLimits, caller.userId, now);
    const asAdmin = !r.approverIds.includes(caller.userId) && tier === null;
    // An admin or an escalation tier's approver settles every group still waiting.
    const settlesAll = asAdmin || tier !== null;
    const approverGroups = r.approverGroups.map((g) =>
      g.satisfiedBy === null && (settlesAll || g.approverIds.includes(caller.userId)) ? { ...g, satisfiedBy: caller.email } : g,
    );
    const approvals = [
      ...r.approvals,
      {
        userId: caller.userId,
        email: caller.email,
        decision: 'APPROVED' as const,
        reason: reason ?? null,
        at: now.toISOString(),
        asAdmin,
        ...(tier !== null ? { escalationTier: tier } : {}),
      },
    ];
    const complete = r.approvalMode === 'AUTOMATIC' || isApproved(r.approvalMode, approverGroups);
    const fields: DecisionFields = {
      approverGroups,
      approvals,
      status: complete ? RequestStates.transition(r.status, 'APPROVED') : r.status,
      decidedAt: complete ? now : r.decidedAt,
    };
    const next = { ...r, ...fields };
    const entry = requestAuditEntry('request.approved', actorOf(caller), next, {
      reason: reason ?? null,
      asAdmin,
      complete,
      waitingFor: approverGroups.filter((g) => g.satisfiedBy === null).map((g) => `${g.type}:${g.values.join(',')}`),
    });
    return { fields, next, entry };
  }

  async reject(caller: Caller, id: string, reason: string | undefined): Promise<AccessRequest> {
    const rejected = await this.requests.transaction(async (tx) => {
      const r = await this.requests.lock(tx, id);
      if (!r || !this.canSee(caller, r)) throw notFound(id);
      this.checkDecider(caller, r, reason);
      const now = new Date();
      const fields: Partial<AccessRequestEntity> = {
        status: RequestStates.transition(r.status, 'REJECTED'),
        decidedAt: now,
        endedAt: now,
        approvals: [...r.approvals, rejection(caller, r, reason, now)],
      };
      await this.requests.update(tx, id, fields);
      const next = { ...r, ...fields };
      await this.audit.append(requestAuditEntry('request.rejected', actorOf(caller), next, { reason: reason ?? null }), tx);
      return next;
    });
    await this.lifecycle.announce(id, 'REJECTED');
    return toRequestView(rejected);
  }

  /**
   * The requester or an admin takes access back. Not yet approved: it ends at once. Approved or
   * granted: REVOKING, then provisioning revokes (now if it answers, else the sweeper retries).
   */
  async revoke(caller: Caller, id: string, reason: string | undefined): Promise<AccessRequest> {
    const r0 = await this.requests.findById(id);
    if (!r0 || !this.canSee(caller, r0)) throw notFound(id);
    if (r0.requesterId !== caller.userId && caller.role !== 'admin') throw forbidden('Only the requester or an admin can revoke a request.');
    const r = await this.requests.transaction(async (tx) => {
      const locked = (await this.requests.lock(tx, id))!;
      // Idempotent: a request already being revoked, or revoked (a parallel call may have finished it), answers as it stands.
      if (locked.status === 'REVOKING' || locked.status === 'REVOKED') return locked;
      if (!RequestStates.REVOCABLE.includes(locked.status)) throw wrongStatus(locked, 'revoke', ...RequestStates.REVOCABLE);
      return this.beginRevocation(tx, locked, actorOf(caller), reason ?? null);
    });
    if (r.status !== 'REVOKED') await this.continueRevocation(r);
    return toRequestView((await this.requests.findById(id))!);
  }

  /**
   * Takes access back from a requester who no longer qualifies (deactivated, deleted, or no longer
   * among the flow's requestors after a change at the identity provider): PENDING ends REJECTED
   * with the reason; APPROVED or GRANTED is revoked the way any revocation is (memberships out,
   * login disabled when nothing is left, sessions terminated). Audited with the change's actor.
   */
  async takeBack(id: string, actor: Actor, reason: string): Promise<void> {
    const r = await this.requests.transaction(async (tx) => {
      const locked = await this.requests.lock(tx, id);
      if (!locked || !RequestStates.REVOCABLE.includes(locked.status)) return null;
      if (locked.status !== 'PENDING') return this.beginRevocation(tx, locked, actor, reason);
      const now = new Date();
      const fields: Partial<AccessRequestEntity> = {
        status: RequestStates.transition(locked.status, 'REJECTED'),
        decidedAt: now,
        endedAt: now,
        statusReason: reason,
      };
      await this.requests.update(tx, id, fields);
      const next = { ...locked, ...fields };
      await this.audit.append(requestAuditEntry('request.rejected', actor, next, { reason, automatic: true }), tx);
      return next;
    });
    if (r) await this.continueRevocation(r);
  }

  /**
   * Resolves a PENDING request's approver groups again from the people as they are now (an
   * approver who left the group can no longer approve; one who joined it can). Groups already
   * satisfied keep their approval. Audited when the approvers change.
   */
  async reresolveApprovers(id: string, actor: Actor, reason: string): Promise<void> {
    const r0 = await this.requests.findById(id);
    if (!r0 || r0.status !== 'PENDING' || r0.approvalMode === 'AUTOMATIC') return;
    const owner = r0.approverGroups.some((g) => g.type === 'OWNER');
    const integration = owner ? await this.connectors.integration(r0.integrationId) : { integrationOwners: [], resourceOwnerMappings: [] };
    const resources: Array<Pick<Resource, 'path' | 'tags'>> = [];
    if (owner) {
      for (const item of r0.items) {
        const resource = await this.bus.request(Contracts.discoveryResourcesGet, { id: item.resourceId }).catch((err: unknown) => {
          // A resource discovery no longer knows has no owner tag: its approvers are the integration owners.
          if (err instanceof AppException && err.code === ErrorCode.NotFound) return { path: item.path, tags: {} };
          throw err;
        });
        resources.push(resource);
      }
    }
    const approvers = {
      mode: r0.approvalMode,
      groups: r0.approverGroups.map((g) => (g.type === 'OWNER' ? { type: g.type } : { type: g.type, values: g.values })),
    };
    const fresh = await resolveApprovers({ approvers, integration, resources, requesterId: r0.requesterId }, this.people);
    await this.requests.transaction(async (tx) => {
      const r = await this.requests.lock(tx, id);
      if (!r || r.status !== 'PENDING' || r.approverGroups.length !== fresh.length) return;
      const approverGroups = fresh.map((g, i) => (r.approverGroups[i].satisfiedBy !== null ? r.approverGroups[i] : g));
      const approverIds = [...new Set(approverGroups.flatMap((g) => g.approverIds))];
      const emails = (groups: typeof approverGroups) => new Set(groups.flatMap((g) => g.approverEmails));
      const [before, after] = [emails(r.approverGroups), emails(approverGroups)];
      const removed = [...before].filter((e) => !after.has(e));
      const added = [...after].filter((e) => !before.has(e));
      if (!removed.length && !added.length && approverIds.length === r.approverIds.length) return;
      await this.requests.update(tx, id, { approverGroups, approverIds });
      await this.audit.append(requestAuditEntry('request.approvers-changed', actor, r, { reason, approversAdded: added, approversRemoved: removed }), tx);
    });
  }

  /** APPROVED or GRANTED -> REVOKING (revoked by `revokedBy`); PENDING ends REVOKED at once. */
  private async beginRevocation(tx: Tx, locked: AccessRequestEntity, revokedBy: Actor, reason: string | null): Promise<AccessRequestEntity> {
    const now = new Date();
    const fields: Partial<AccessRequestEntity> =
      locked.status === 'PENDING'
        ? { status: RequestStates.transition(locked.status, 'REVOKED'), endedAt: now, statusReason: reason, revokedBy }
        : { status: RequestStates.transition(locked.status, 'REVOKING'), statusReason: reason, revokedBy };
    await this.requests.update(tx, locked.id, fields);
    const next = { ...locked, ...fields };
    const details = { reason, previousStatus: locked.status };
    // Not granted yet: it ends here, audited once as its end. Else its end is audited when the grant is taken back.
    await this.audit.append(
      next.status === 'REVOKED' ? endAuditEntry(next, details) : requestAuditEntry('request.revocation-requested', revokedBy, next, details),
      tx,
    );
    return next;
  }

  /** After the transaction: tells listeners, and has provisioning revoke a grant (or the grant job make and revoke it). */
  private async continueRevocation(r: AccessRequestEntity): Promise<void> {
    await this.lifecycle.announce(r.id, r.status);
    if (r.status === 'REVOKING') {
      if (r.grantId) await this.lifecycle.revokeNow(r);
      else await this.enqueue(r.id);
    }
  }

  /**
   * Moves the expiry `minutes` later, at most the flow's maximum duration per extension and its
   * number of extensions. The request's row stays locked from the check of the limit to the
   * recorded extension (provisioning's answer included), so parallel extensions are counted one
   * at a time: beyond the limit they get 409 EXTENSION_LIMIT_REACHED.
   */
  async extend(caller: Caller, id: string, minutes: number): Promise<AccessRequest> {
    const extended = await this.requests.transaction(async (tx) => {
      const r = await this.requests.lock(tx, id);
      if (!r || !this.canSee(caller, r)) throw notFound(id);
      if (r.requesterId !== caller.userId && caller.role !== 'admin') throw forbidden('Only the requester or an admin can extend a request.');
      if (r.status !== 'GRANTED') throw wrongStatus(r, 'extend', 'GRANTED');
      if (r.extensions >= r.flowLimits.maxExtensions) {
        throw new AppException(
          ErrorCode.Conflict,
          `Flow "${r.flowName}" allows ${r.flowLimits.maxExtensions} extension(s) and this request has had ${r.extensions}.`,
          {
            reason: 'EXTENSION_LIMIT_REACHED',
            maxExtensions: r.flowLimits.maxExtensions,
            extensions: r.extensions,
          },
        );
      }
      if (minutes > r.flowLimits.maxDurationMinutes) {
        throw AppException.validation([
          { field: 'minutes', rule: `must be at most ${r.flowLimits.maxDurationMinutes} (the maximum duration of flow "${r.flowName}")` },
        ]);
      }
      const expiresAt = new Date(r.expiresAt!.getTime() + minutes * 60_000);
      await this.connectors.request(Contracts.provisioningGrantsExtend, r.integrationId, { id: r.grantId!, expiresAt: expiresAt.toISOString() });
      const fields: Partial<AccessRequestEntity> = { expiresAt, extensions: r.extensions + 1 };
      await this.requests.update(tx, id, fields);
      const next = { ...r, ...fields };
      await this.audit.append(
        requestAuditEntry('request.extended', actorOf(caller), next, {
          minutes,
          expiresAt: { before: r.expiresAt!.toISOString(), after: expiresAt.toISOString() },
        }),
        tx,
      );
      return next;
    });
    return toRequestView(extended);
  }

  /**
   * Ends PENDING requests whose decision deadline passed: EXPIRED, with the reason in statusReason
   * and an audit entry by Latchkey (`request.expired`, `pending: true`). A decision that lands first
   * wins: the row is locked and re-checked.
   */
  async expirePending(): Promise<number> {
    let expired = 0;
    for (const id of await this.requests.findPendingPastDeadline(this.pendingExpiryMinutes)) {
      const ended = await this.requests.transaction(async (tx) => {
        const r = await this.requests.lock(tx, id);
        if (!r || r.status !== 'PENDING') return false;
        const minutes = r.flowLimits.pendingExpiryMinutes ?? this.pendingExpiryMinutes;
        const now = new Date();
        if (r.createdAt.getTime() + minutes * 60_000 > now.getTime()) return false;
        const statusReason = `no decision within ${minutes} minute(s): the request expired while PENDING`;
        const fields: Partial<AccessRequestEntity> = { status: RequestStates.transition(r.status, 'EXPIRED'), endedAt: now, decidedAt: now, statusReason };
        await this.requests.update(tx, id, fields);
        await this.audit.append(requestAuditEntry('request.expired', SYSTEM_ACTOR, { ...r, ...fields }, { pending: true, reason: statusReason }), tx);
        return true;
      });
      if (ended) {
        expired++;
        this.logger.info({ requestId: id }, 'pending access request expired');
        await this.lifecycle.announce(id, 'EXPIRED');
      }
    }
    return expired;
  }

  /**
   * How to log in. The password only on the first read (it is then deleted); later reads say when
   * it was viewed. The first read marks it viewed, audited, in one statement on the row as read;
   * when that row moved meanwhile, the read is made again under the row's lock.
   */
  async accessDetails(caller: Caller, id: string): Promise<AccessDetails> {
    const r = this.checkAccessDetails(caller, id, await this.requests.findById(id));
    if (!r.passwordEnvelope || r.passwordViewedAt) return toAccessDetails(r, null);
    const password = decryptSecret(r.passwordEnvelope, this.masterKey).password;
    const viewed = { ...r, passwordViewedAt: new Date(), passwordEnvelope: null };
    const entry = requestAuditEntry('request.credentials-viewed', actorOf(caller), viewed, {});
    if (await this.requests.recordPasswordViewed(id, r.passwordEnvelope, viewed.passwordViewedAt, this.audit.prepare([entry]))) {
      this.audit.written();
      return toAccessDetails(viewed, password);
    }
    return this.requests.transaction(async (tx) => {
      const locked = this.checkAccessDetails(caller, id, await this.requests.lock(tx, id));
      let shown: string | null = null;
      if (locked.passwordEnvelope && !locked.passwordViewedAt) {
        shown = decryptSecret(locked.passwordEnvelope, this.masterKey).password;
        locked.passwordViewedAt = new Date();
        locked.passwordEnvelope = null;
        await this.requests.update(tx, id, { passwordViewedAt: locked.passwordViewedAt, passwordEnvelope: null });
        await this.audit.append(requestAuditEntry('request.credentials-viewed', actorOf(caller), locked, {}), tx);
      }
      return toAccessDetails(locked, shown);
    });
  }

  /** The request whose access details `caller` may see: theirs, GRANTED. */
  private checkAccessDetails(caller: Caller, id: string, r: AccessRequestEntity | null): AccessRequestEntity {
    if (!r || !this.canSee(caller, r)) throw notFound(id);
    if (r.requesterId !== caller.userId) throw forbidden('Only the requester can see the access details of a request.');
    if (r.status !== 'GRANTED' || !r.login) throw wrongStatus(r, 'show access details of', 'GRANTED');
    return r;
  }

  /** A new password for the granted login (the old one stops working); shown in this answer only. */
  async resetCredentials(caller: Caller, id: string): Promise<AccessDetails> {
    const r = await this.requests.findById(id);
    if (!r || !this.canSee(caller, r)) throw notFound(id);
    if (r.requesterId !== caller.userId) throw forbidden('Only the requester can reset the credentials of a request.');
    if (r.status !== 'GRANTED' || !r.grantId) throw wrongStatus(r, 'reset the credentials of', 'GRANTED');
    const answer = await this.connectors.request(Contracts.provisioningGrantsResetCredentials, r.integrationId, { id: r.grantId });
    if (!answer.credentials) throw new AppException(ErrorCode.Conflict, `The grant is ${answer.grant.status}: no new password was issued.`);
    return this.requests.transaction(async (tx) => {
      const locked = (await this.requests.lock(tx, id))!;
      locked.passwordViewedAt = new Date();
      locked.passwordEnvelope = null;
      await this.requests.update(tx, id, { passwordViewedAt: locked.passwordViewedAt, passwordEnvelope: null });
      await this.audit.append(requestAuditEntry('request.credentials-reset', actorOf(caller), locked, {}), tx);
      return toAccessDetails(locked, answer.credentials!.password);
    });
  }

  private async enqueue(id: string) {
    try {
      await this.queue.enqueue(id);
    } catch (err) {
      // The request is APPROVED in the control database: the sweeper enqueues it once Redis is back.
      this.logger.warn({ err, requestId: id }, 'could not enqueue the grant; the sweeper will');
    }
  }

  private canSee(caller: Caller, r: AccessRequestEntity): boolean {
    return (
      caller.role === 'admin' ||
      r.requesterId === caller.userId ||
      r.approverIds.includes(caller.userId) ||
      dueEscalationTier(r.flowLimits, caller.userId, new Date()) !== null
    );
  }

  private checkDecider(caller: Caller, r: AccessRequestEntity, reason: string | undefined) {
    if (r.requesterId === caller.userId) throw forbidden('You cannot approve or reject your own request.');
    if (!r.approverIds.includes(caller.userId) && caller.role !== 'admin' && dueEscalationTier(r.flowLimits, caller.userId, new Date()) === null)
      throw forbidden('You are not an approver of this request.');
    if (r.status !== 'PENDING') throw wrongStatus(r, 'decide on', 'PENDING');
    if (r.flowLimits.approverReasonRequired && !reason) throw AppException.validation([{ field: 'reason', rule: `is required by flow "${r.flowName}"` }]);
  }

  private async resolveItems(items: Array<{ resourceId: string; permission: WantedItem['permission'] }>): Promise<WantedItem[]> {
    const issues: ValidationIssue[] = [];
    const seen = new Set<string>();
    const resolved: WantedItem[] = [];
    // Every item's resource at once (a recent read reused), then checked in the items' order.
    const reads = items.map(({ resourceId }) =>
      this.recentResources.get(resourceId.toLowerCase(), () => this.bus.request(Contracts.discoveryResourcesGet, { id: resourceId })),
    );
    for (const read of reads) read.catch(() => undefined);
    for (const [i, item] of items.entries()) {
      const key = `${item.resourceId.toLowerCase()}/${item.permission}`;
      if (seen.has(key)) {
        issues.push({ field: `items.${i}`, rule: 'must not repeat an earlier item' });
        continue;
      }
      seen.add(key);
      let resource: Resource;
      try {
        resource = await reads[i]!;
      } catch (err) {
        if (err instanceof AppException && err.code === ErrorCode.NotFound) {
          issues.push({ field: `items.${i}.resourceId`, rule: 'must be the id of a discovered resource' });
          continue;
        }
        throw err;
      }
      if (resource.managed) issues.push({ field: `items.${i}.resourceId`, rule: "must not be one of Latchkey's own roles" });
      else if (resource.unrequestableReason !== null)
        issues.push({ field: `items.${i}.resourceId`, rule: `must be a role Latchkey hands out (${resource.unrequestableReason})` });
      else if (!resource.permissions.includes(item.permission))
        issues.push({ field: `items.${i}.permission`, rule: `must be one of ${resource.permissions.join(', ')} for ${resource.type}` });
      else resolved.push({ resource, permission: item.permission });
    }
    if (issues.length) throw AppException.validation(issues);
    return resolved;
  }
}

/** The grant item provisioning needs, from the resource's exact path parts. */
export function storedItem(item: WantedItem, integration: Pick<Integration, 'config'>): StoredItem {
  const { resource, permission } = item;
  const parts = resource.parts;
  let grant: GrantItem;
  switch (resource.type) {
    case 'postgresql-database':
      grant = { resourceType: resource.type, database: parts.name, permission };
      break;
    case 'postgresql-schema':
      grant = { resourceType: resource.type, database: parts.database!, schema: parts.name, permission };
      break;
    case 'postgresql-table':
      grant = { resourceType: resource.type, database: parts.database!, schema: parts.schema!, table: parts.name, permission };
      break;
    case 'postgresql-role':
      grant = { resourceType: resource.type, database: String(integration.config.dbname ?? 'postgres'), role: parts.name, permission };
      break;
  }
  return { resourceId: resource.id, permission, resourceType: resource.type, path: resource.path, grant };
}

/** A rejection as recorded: by an approver, an escalation tier's approver, or an admin. */
function rejection(caller: Caller, r: AccessRequestEntity, reason: string | undefined, now: Date): Approval {
  const tier = r.approverIds.includes(caller.userId) ? null : dueEscalationTier(r.flowLimits, caller.userId, now);
  return {
    userId: caller.userId,
    email: caller.email,
    decision: 'REJECTED',
    reason: reason ?? null,
    at: now.toISOString(),
    asAdmin: !r.approverIds.includes(caller.userId) && tier === null,
    ...(tier !== null ? { escalationTier: tier } : {}),
  };
}
