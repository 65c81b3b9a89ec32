import { Inject, Injectable } from '@nestjs/common';
import { AccessRequestInput, actorOfCaller as actorOf, Contracts, ErrorCode, issuesFromZod, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { AccessDetails, AccessRequest, AccessRequestStatus, Caller, GrantItem, Integration, Resource, ValidationIssue } from '@latchkey/contracts';
import { AppException, LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { MasterKey, decryptSecret } from '@latchkey/secrets';
import { AuditService } from '../audit/audit.service';
import { FlowsRepository } from '../flows/flows.repository';
import { PeopleDirectorySql } from '../flows/people.directory';
import type { AccessRequestEntity, StoredItem } from './access-request.entity';
import { AccessRequestsRepository, BadRequestPageTokenError } from './access-requests.repository';
import { isApproved, resolveApprovers } from './approvers';
import { GrantLifecycle } from './grant-lifecycle.service';
import { GrantQueue } from './grant.queue';
import { planRequest, WantedItem } from './request-planner';
import { endAuditEntry, requestAuditEntry, toAccessDetails, toRequestView } from './request-view';

/** The default of ACCESS_PENDING_EXPIRY_MINUTES: how long a request may wait for a decision when its flow does not say. */
export const PENDING_EXPIRY_MINUTES = Symbol('PENDING_EXPIRY_MINUTES');

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No access request with id ${id}.`);
const forbidden = (message: string) => new AppException(ErrorCode.Forbidden, message);
const wrongStatus = (r: { status: AccessRequestStatus }, action: string, allowed: string) =>
  new AppException(ErrorCode.Conflict, `Cannot ${action} a request that is ${r.status}; only ${allowed} requests.`, { status: r.status });

@Injectable()
export class RequestsService {
  constructor(
    private readonly requests: AccessRequestsRepository,
    private readonly flows: FlowsRepository,
    private readonly people: PeopleDirectorySql,
    private readonly bus: MessageBus,
    private readonly audit: AuditService,
    private readonly queue: GrantQueue,
    private readonly lifecycle: GrantLifecycle,
    private readonly masterKey: MasterKey,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(PENDING_EXPIRY_MINUTES) private readonly pendingExpiryMinutes: number,
  ) {}

  /**
   * Matches the items to the flows that allow them and makes one request per (flow, integration).
   * Nothing is created when any item is denied (403 with every reason) or on a dry run.
   */
  async create(caller: Caller, body: unknown): Promise<{ dryRun: boolean; requests: AccessRequest[] }> {
    const parsed = AccessRequestInput.safeParse(body);
    if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error));
    const input = parsed.data;
    const items = await this.resolveItems(input.items);
    const justification = input.justification ? input.justification : undefined;
    const flows = await this.flows.activeFor([...new Set(items.map((i) => i.resource.integrationId))]);
    const now = new Date();
    const plan = planRequest({ caller, items, durationMinutes: input.durationMinutes, justification, flows, now });
    if (!plan.ok) {
      const summary = plan.denials.map((d) => d.reasons.join('; ')).join(' | ');
      throw new AppException(ErrorCode.Forbidden, `No access flow allows this request: ${summary}`, { denials: plan.denials });
    }

    const rows: Array<Omit<AccessRequestEntity, 'id'>> = [];
    const integrations = new Map<string, Integration>();
    for (const planned of plan.requests) {
      const integration = await this.bus.request(Contracts.catalogIntegrationsGet, { id: planned.integrationId });
      integrations.set(integration.id, integration);
      const approvers = planned.flow.approvers;
      const approverGroups = approvers
        ? await resolveApprovers({ approvers, integration, resources: planned.items.map((i) => i.resource), requesterId: caller.userId }, this.people)
        : [];
      const automatic = approvers === null;
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

    const saved = await this.requests.transaction(async (m) => {
      const out: AccessRequestEntity[] = [];
      for (const row of rows) {
        const r = await this.requests.insert(m, row);
        const warnings = toRequestView(r).warnings.map((w) => w.message);
        const created = requestAuditEntry('request.created', actorOf(caller), r, { items: r.items.map((i) => `${i.permission} ${i.path}`), durationMinutes: r.durationMinutes, justification: r.justification, approvers: r.approverGroups.map((g) => g.approverEmails), ...(warnings.length ? { warnings } : {}) });
        await this.audit.appendAll(r.status === 'APPROVED' ? [created, requestAuditEntry('request.approved', SYSTEM_ACTOR, r, { automatic: true })] : [created], m);
        out.push(r);
      }
      return out;
    });
    for (const r of saved) {
      this.logger.info({ requestId: r.id, flowId: r.flowId, status: r.status }, 'access request created');
      await this.lifecycle.announce(r.id, r.status);
      if (r.status === 'APPROVED') await this.lifecycle.grantNow(r, integrations.get(r.integrationId));
    }
    return { dryRun: false, requests: saved.map(toRequestView) };
  }

  async get(caller: Caller, id: string): Promise<AccessRequest> {
    const r = await this.requests.findById(id);
    if (!r || !this.canSee(caller, r)) throw notFound(id);
    return toRequestView(r);
  }

  async list(caller: Caller, query: Parameters<AccessRequestsRepository['page']>[0]) {
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
    const approved = await this.requests.transaction(async (m) => {
      const r = await this.requests.lock(m, id);
      if (!r || !this.canSee(caller, r)) throw notFound(id);
      this.checkDecider(caller, r, reason);
      if (r.approvals.some((a) => a.userId === caller.userId)) throw new AppException(ErrorCode.Conflict, 'You already approved this request.');
      const asAdmin = !r.approverIds.includes(caller.userId);
      const now = new Date();
      const approverGroups = r.approverGroups.map((g) => (g.satisfiedBy === null && (asAdmin || g.approverIds.includes(caller.userId)) ? { ...g, satisfiedBy: caller.email } : g));
      const approvals = [...r.approvals, { userId: caller.userId, email: caller.email, decision: 'APPROVED' as const, reason: reason ?? null, at: now.toISOString(), asAdmin }];
      const complete = r.approvalMode === 'AUTOMATIC' || isApproved(r.approvalMode, approverGroups);
      const fields: Partial<AccessRequestEntity> = { approverGroups, approvals, ...(complete ? { status: 'APPROVED', decidedAt: now } : {}) };
      await this.requests.update(m, id, fields);
      const next = { ...r, ...fields };
      await this.audit.append(requestAuditEntry('request.approved', actorOf(caller), next, { reason: reason ?? null, asAdmin, complete, waitingFor: approverGroups.filter((g) => g.satisfiedBy === null).map((g) => `${g.type}:${g.values.join(',')}`) }), m);
      return next;
    });
    if (approved.status === 'APPROVED') {
      await this.lifecycle.announce(id, 'APPROVED');
      await this.lifecycle.grantNow(approved);
    }
    return toRequestView(approved);
  }

  async reject(caller: Caller, id: string, reason: string | undefined): Promise<AccessRequest> {
    const rejected = await this.requests.transaction(async (m) => {
      const r = await this.requests.lock(m, id);
      if (!r || !this.canSee(caller, r)) throw notFound(id);
      this.checkDecider(caller, r, reason);
      const now = new Date();
      const fields: Partial<AccessRequestEntity> = {
        status: 'REJECTED',
        decidedAt: now,
        endedAt: now,
        approvals: [...r.approvals, { userId: caller.userId, email: caller.email, decision: 'REJECTED', reason: reason ?? null, at: now.toISOString(), asAdmin: !r.approverIds.includes(caller.userId) }],
      };
      await this.requests.update(m, id, fields);
      const next = { ...r, ...fields };
      await this.audit.append(requestAuditEntry('request.rejected', actorOf(caller), next, { reason: reason ?? null }), m);
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
    const r = await this.requests.transaction(async (m) => {
      const locked = (await this.requests.lock(m, id))!;
      if (locked.status === 'REVOKING') return locked;
      if (!['PENDING', 'APPROVED', 'GRANTED'].includes(locked.status)) throw wrongStatus(locked, 'revoke', 'PENDING, APPROVED or GRANTED');
      const now = new Date();
      const revokedBy = actorOf(caller);
      const fields: Partial<AccessRequestEntity> =
        locked.status === 'PENDING' ? { status: 'REVOKED', endedAt: now, statusReason: reason ?? null, revokedBy } : { status: 'REVOKING', statusReason: reason ?? null, revokedBy };
      await this.requests.update(m, id, fields);
      const next = { ...locked, ...fields };
      const details = { reason: reason ?? null, previousStatus: locked.status };
      // Not granted yet: it ends here, audited once as its end. Else its end is audited when the grant is taken back.
      await this.audit.append(next.status === 'REVOKED' ? endAuditEntry(next, details) : requestAuditEntry('request.revocation-requested', revokedBy, next, details), m);
      return next;
    });
    await this.lifecycle.announce(id, r.status);
    if (r.status === 'REVOKING') {
      if (r.grantId) await this.lifecycle.revokeNow(r);
      else await this.enqueue(id);
    }
    return toRequestView((await this.requests.findById(id))!);
  }

  /**
   * Moves the expiry `minutes` later, at most the flow's maximum duration per extension and its
   * number of extensions. The request's row stays locked from the check of the limit to the
   * recorded extension (provisioning's answer included), so parallel extensions are counted one
   * at a time: beyond the limit they get 409 EXTENSION_LIMIT_REACHED.
   */
  async extend(caller: Caller, id: string, minutes: number): Promise<AccessRequest> {
    const extended = await this.requests.transaction(async (m) => {
      const r = await this.requests.lock(m, id);
      if (!r || !this.canSee(caller, r)) throw notFound(id);
      if (r.requesterId !== caller.userId && caller.role !== 'admin') throw forbidden('Only the requester or an admin can extend a request.');
      if (r.status !== 'GRANTED') throw wrongStatus(r, 'extend', 'GRANTED');
      if (r.extensions >= r.flowLimits.maxExtensions) {
        throw new AppException(ErrorCode.Conflict, `Flow "${r.flowName}" allows ${r.flowLimits.maxExtensions} extension(s) and this request has had ${r.extensions}.`, {
          reason: 'EXTENSION_LIMIT_REACHED',
          maxExtensions: r.flowLimits.maxExtensions,
          extensions: r.extensions,
        });
      }
      if (minutes > r.flowLimits.maxDurationMinutes) {
        throw AppException.validation([{ field: 'minutes', rule: `must be at most ${r.flowLimits.maxDurationMinutes} (the maximum duration of flow "${r.flowName}")` }]);
      }
      const expiresAt = new Date(r.expiresAt!.getTime() + minutes * 60_000);
      const connectorId = await this.lifecycle.connectorOf(r.integrationId);
      await this.bus.request(Contracts.provisioningGrantsExtend, { id: r.grantId!, expiresAt: expiresAt.toISOString() }, { connectorId });
      const fields: Partial<AccessRequestEntity> = { expiresAt, extensions: r.extensions + 1 };
      await this.requests.update(m, id, fields);
      const next = { ...r, ...fields };
      await this.audit.append(requestAuditEntry('request.extended', actorOf(caller), next, { minutes, expiresAt: { before: r.expiresAt!.toISOString(), after: expiresAt.toISOString() } }), m);
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
      const ended = await this.requests.transaction(async (m) => {
        const r = await this.requests.lock(m, id);
        if (!r || r.status !== 'PENDING') return false;
        const minutes = r.flowLimits.pendingExpiryMinutes ?? this.pendingExpiryMinutes;
        const now = new Date();
        if (r.createdAt.getTime() + minutes * 60_000 > now.getTime()) return false;
        const statusReason = `no decision within ${minutes} minute(s): the request expired while PENDING`;
        const fields: Partial<AccessRequestEntity> = { status: 'EXPIRED', endedAt: now, decidedAt: now, statusReason };
        await this.requests.update(m, id, fields);
        await this.audit.append(requestAuditEntry('request.expired', SYSTEM_ACTOR, { ...r, ...fields }, { pending: true, reason: statusReason }), m);
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

  /** How to log in. The password only on the first read (it is then deleted); later reads say when it was viewed. */
  async accessDetails(caller: Caller, id: string): Promise<AccessDetails> {
    return this.requests.transaction(async (m) => {
      const r = await this.requests.lock(m, id);
      if (!r || !this.canSee(caller, r)) throw notFound(id);
      if (r.requesterId !== caller.userId) throw forbidden('Only the requester can see the access details of a request.');
      if (r.status !== 'GRANTED' || !r.login) throw wrongStatus(r, 'show access details of', 'GRANTED');
      let password: string | null = null;
      if (r.passwordEnvelope && !r.passwordViewedAt) {
        password = decryptSecret(r.passwordEnvelope, this.masterKey).password;
        r.passwordViewedAt = new Date();
        r.passwordEnvelope = null;
        await this.requests.update(m, id, { passwordViewedAt: r.passwordViewedAt, passwordEnvelope: null });
        await this.audit.append(requestAuditEntry('request.credentials-viewed', actorOf(caller), r, {}), m);
      }
      return toAccessDetails(r, password);
    });
  }

  /** A new password for the granted login (the old one stops working); shown in this answer only. */
  async resetCredentials(caller: Caller, id: string): Promise<AccessDetails> {
    const r = await this.requests.findById(id);
    if (!r || !this.canSee(caller, r)) throw notFound(id);
    if (r.requesterId !== caller.userId) throw forbidden('Only the requester can reset the credentials of a request.');
    if (r.status !== 'GRANTED' || !r.grantId) throw wrongStatus(r, 'reset the credentials of', 'GRANTED');
    const connectorId = await this.lifecycle.connectorOf(r.integrationId);
    const answer = await this.bus.request(Contracts.provisioningGrantsResetCredentials, { id: r.grantId }, { connectorId });
    if (!answer.credentials) throw new AppException(ErrorCode.Conflict, `The grant is ${answer.grant.status}: no new password was issued.`);
    return this.requests.transaction(async (m) => {
      const locked = (await this.requests.lock(m, id))!;
      locked.passwordViewedAt = new Date();
      locked.passwordEnvelope = null;
      await this.requests.update(m, id, { passwordViewedAt: locked.passwordViewedAt, passwordEnvelope: null });
      await this.audit.append(requestAuditEntry('request.credentials-reset', actorOf(caller), locked, {}), m);
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
    return caller.role === 'admin' || r.requesterId === caller.userId || r.approverIds.includes(caller.userId);
  }

  private checkDecider(caller: Caller, r: AccessRequestEntity, reason: string | undefined) {
    if (r.requesterId === caller.userId) throw forbidden('You cannot approve or reject your own request.');
    if (!r.approverIds.includes(caller.userId) && caller.role !== 'admin') throw forbidden('You are not an approver of this request.');
    if (r.status !== 'PENDING') throw wrongStatus(r, 'decide on', 'PENDING');
    if (r.flowLimits.approverReasonRequired && !reason) throw AppException.validation([{ field: 'reason', rule: `is required by flow "${r.flowName}"` }]);
  }


  private async resolveItems(items: Array<{ resourceId: string; permission: WantedItem['permission'] }>): Promise<WantedItem[]> {
    const issues: ValidationIssue[] = [];
    const seen = new Set<string>();
    const resolved: WantedItem[] = [];
    for (const [i, item] of items.entries()) {
      const key = `${item.resourceId.toLowerCase()}/${item.permission}`;
      if (seen.has(key)) {
        issues.push({ field: `items.${i}`, rule: 'must not repeat an earlier item' });
        continue;
      }
      seen.add(key);
      let resource: Resource;
      try {
        resource = await this.bus.request(Contracts.discoveryResourcesGet, { id: item.resourceId });
      } catch (err) {
        if (err instanceof AppException && err.code === ErrorCode.NotFound) {
          issues.push({ field: `items.${i}.resourceId`, rule: 'must be the id of a discovered resource' });
          continue;
        }
        throw err;
      }
      if (resource.managed) issues.push({ field: `items.${i}.resourceId`, rule: "must not be one of Latchkey's own roles" });
      else if (resource.unrequestableReason !== null) issues.push({ field: `items.${i}.resourceId`, rule: `must be a role Latchkey hands out (${resource.unrequestableReason})` });
      else if (!resource.permissions.includes(item.permission)) issues.push({ field: `items.${i}.permission`, rule: `must be one of ${resource.permissions.join(', ')} for ${resource.type}` });
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

