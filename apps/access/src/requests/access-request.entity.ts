import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type {
  AccessRequestItem,
  Actor,
  AccessRequestStatus,
  Approval,
  EncryptedEnvelope,
  GrantItem,
  ReminderSettings,
  ResolvedApproverGroup,
  SslMode,
} from '@latchkey/contracts';

/** An item as requested, plus what provisioning needs to grant it. */
export type StoredItem = AccessRequestItem & { grant: GrantItem };

/** The flow's limits when the request was made. */
export interface FlowLimits {
  maxDurationMinutes: number;
  maxExtensions: number;
  approverReasonRequired: boolean;
  /** Minutes a request may stay PENDING before it ends EXPIRED (absent on requests made before it existed: the service default applies). */
  pendingExpiryMinutes?: number;
  /** The flow's reminders to approvers (the notifications service sends them). */
  reminders?: ReminderSettings;
  /** The flow's escalation tiers, resolved to people when the request was made. */
  escalation?: EscalationTierState[];
}

/** An escalation tier of a request: from `dueAt` on, its approvers may decide too. */
export interface EscalationTierState {
  afterMinutes: number;
  dueAt: string;
  groups: ResolvedApproverGroup[];
}

/** The escalation tier (1-based) through which `userId` may decide at `now`, or null. */
export function dueEscalationTier(limits: FlowLimits, userId: string, now: Date): number | null {
  const tiers = limits.escalation ?? [];
  for (const [i, t] of tiers.entries()) {
    if (Date.parse(t.dueAt) <= now.getTime() && t.groups.some((g) => g.approverIds.includes(userId))) return i + 1;
  }
  return null;
}

export interface Login {
  host: string;
  port: number;
  database: string;
  username: string;
  sslmode: SslMode;
  customAccessDetails: string | null;
}

@Entity({ name: 'access_requests' })
export class AccessRequestEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) status!: AccessRequestStatus;
  @Column({ type: 'uuid', name: 'requester_id' }) requesterId!: string;
  @Column({ type: 'text', name: 'requester_email' }) requesterEmail!: string;
  @Column({ type: 'uuid', name: 'flow_id' }) flowId!: string;
  @Column({ type: 'text', name: 'flow_name' }) flowName!: string;
  @Column({ type: 'jsonb', name: 'flow_limits' }) flowLimits!: FlowLimits;
  @Column({ type: 'uuid', name: 'integration_id' }) integrationId!: string;
  @Column({ type: 'jsonb' }) items!: StoredItem[];
  @Column({ type: 'text', nullable: true }) justification!: string | null;
  @Column({ type: 'integer', name: 'duration_minutes' }) durationMinutes!: number;
  @Column({ type: 'text', name: 'approval_mode' }) approvalMode!: 'AUTOMATIC' | 'ANY_OF' | 'ALL_OF';
  @Column({ type: 'jsonb', name: 'approver_groups' }) approverGroups!: ResolvedApproverGroup[];
  @Column({ type: 'uuid', array: true, name: 'approver_ids' }) approverIds!: string[];
  @Column({ type: 'jsonb' }) approvals!: Approval[];
  @Column({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
  @Column({ type: 'timestamptz', name: 'decided_at', nullable: true }) decidedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'granted_at', nullable: true }) grantedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'ended_at', nullable: true }) endedAt!: Date | null;
  @Column({ type: 'integer' }) extensions!: number;
  @Column({ type: 'uuid', name: 'grant_id', nullable: true }) grantId!: string | null;
  @Column({ type: 'text', name: 'status_reason', nullable: true }) statusReason!: string | null;
  @Column({ type: 'jsonb', nullable: true }) login!: Login | null;
  @Column({ type: 'jsonb', name: 'password_envelope', nullable: true }) passwordEnvelope!: EncryptedEnvelope | null;
  @Column({ type: 'timestamptz', name: 'password_viewed_at', nullable: true }) passwordViewedAt!: Date | null;
  /** Who asked for the revocation; null when the request expired or ended otherwise. */
  @Column({ type: 'jsonb', name: 'revoked_by', nullable: true }) revokedBy!: Actor | null;
}
