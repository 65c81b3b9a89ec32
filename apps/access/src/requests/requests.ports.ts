import type { z } from 'zod';
import type { AccessFlow, AccessRequestQuery, AccessRequestStatus, EncryptedEnvelope, EventContract, RequestContract } from '@latchkey/contracts';
import type { PreparedAudit } from '../audit/audit-trail';
import type { Tx } from '../control-database/transactions.repository';
import type { AccessRequestEntity } from './access-request.entity';

// What the orchestration of access requests (RequestsService, GrantLifecycle) needs from the world
// around it. Each is an abstract class so Nest can inject it by type (requests.module.ts binds the
// real one) and a unit test can hand in a plain in-memory fake that extends or implements it.

export type RequestPageQuery = z.output<typeof AccessRequestQuery> & { visibleTo?: string; awaitingApprovalBy?: string };
export const PENDING_AGES = ['under_5m', '5m_to_1h', '1h_to_1d', 'over_1d'] as const;
export type PendingAge = (typeof PENDING_AGES)[number];
/** What a request becomes when its grant is made. */
/** What an approval changes on a request. */
export type DecisionFields = Pick<AccessRequestEntity, 'approverGroups' | 'approvals' | 'status' | 'decidedAt'>;

export type GrantedFields = Pick<AccessRequestEntity, 'status' | 'grantId' | 'grantedAt' | 'expiresAt' | 'login' | 'passwordEnvelope' | 'passwordViewedAt'>;

/** A page token that no earlier page handed out. */
export class BadRequestPageTokenError extends Error {}

/** The access requests' rows (AccessRequestsRepository). */
export abstract class RequestStore {
  /** Runs `work` in one transaction: every call given its `tx` commits or rolls back together. */
  abstract transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  abstract findById(id: string): Promise<AccessRequestEntity | null>;
  /** The rows of those ids that exist, in no set order. */
  abstract findByIds(ids: readonly string[]): Promise<AccessRequestEntity[]>;
  /** The row, locked until the transaction ends: decisions on one request happen one at a time. */
  abstract lock(tx: Tx, id: string): Promise<AccessRequestEntity | null>;
  abstract insert(tx: Tx, row: Omit<AccessRequestEntity, 'id'>): Promise<AccessRequestEntity>;
  abstract update(tx: Tx, id: string, fields: Partial<AccessRequestEntity>): Promise<void>;
  // The hot path, each in one statement without a transaction: the change and its prepared audit
  // entries are written together or not at all.
  /** A new request (its id chosen by the caller) and its entries. */
  abstract insertAudited(row: AccessRequestEntity, audit: PreparedAudit): Promise<void>;
  /** The grant made: GRANTED with `fields` and the entries, if the request is still `from`; false (nothing written) if it moved on. */
  abstract recordGranted(id: string, from: AccessRequestStatus, fields: GrantedFields, audit: PreparedAudit): Promise<boolean>;
  /**
   * A decision: `fields` and the entries written if the decision's inputs are still as `read`
   * (status, approver groups, approvals: every decision changes one of them); false (nothing written) otherwise.
   */
  abstract recordDecision(id: string, read: DecisionFields, fields: DecisionFields, audit: PreparedAudit): Promise<boolean>;
  /**
   * The password read: marked viewed at `viewedAt` and deleted, with the entries, if it is still
   * unread on a GRANTED request and still the one read (`readEnvelope`: a reset replaces it); false (nothing written) otherwise.
   */
  abstract recordPasswordViewed(id: string, readEnvelope: EncryptedEnvelope, viewedAt: Date, audit: PreparedAudit): Promise<boolean>;
  /** Newest first; throws BadRequestPageTokenError for a token it did not make. */
  abstract page(query: RequestPageQuery): Promise<{ items: AccessRequestEntity[]; nextPageToken?: string }>;
  /** PENDING requests past their decision deadline (the flow's pendingExpiryMinutes, else `defaultMinutes`). */
  abstract findPendingPastDeadline(defaultMinutes: number): Promise<string[]>;
  /** For the metrics: PENDING requests per age band, and GRANTED ones whose password was never read. */
  abstract liveCounts(): Promise<{ pending: Record<PendingAge, number>; unviewed: number }>;
}

/** The active access flows a new request is matched against (FlowsRepository). */
export abstract class ActiveFlows {
  abstract activeFor(integrationIds: string[]): Promise<AccessFlow[]>;
}

/** The grant jobs of approved requests (GrantQueue): one per request, re-added by the sweeper when lost. */
export abstract class GrantJobs {
  /** `delayMs` > 0: the safety net of a grant made inline. */
  abstract enqueue(requestId: string, delayMs?: number): Promise<void>;
  /** Drops a waiting or delayed job whose work is done. */
  abstract remove(requestId: string): Promise<void>;
}

/** Requests to other services and events, checked against their contracts both ways (MessageBus). */
export abstract class Bus {
  abstract request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options?: { connectorId?: string },
  ): Promise<z.output<Res>>;
  abstract publish<P extends z.ZodType>(contract: EventContract<P>, payload: z.input<P>): Promise<void>;
}
