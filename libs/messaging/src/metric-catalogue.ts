import type { ServiceName } from '@latchkey/contracts';

export type MetricKind = 'counter' | 'gauge' | 'histogram';
/**
 * How the gateway adds up the answers of several replicas: `sum` for what each process counts,
 * `max` for what every replica reads from the same place (the control database, a shared queue).
 */
export type ReplicaAggregation = 'sum' | 'max';

export interface MetricDef<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly kind: MetricKind;
  readonly labelNames: readonly L[];
  readonly buckets?: readonly number[];
  readonly aggregation: ReplicaAggregation;
  /** Which service emits it (README table). */
  readonly from: ServiceName | 'every service';
}

const def = <L extends string = never>(d: MetricDef<L>): MetricDef<L> => d;

/** Seconds, from a fast NATS round trip to a day-long wait for a person. */
const WAIT_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];
const FAST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LATENESS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

/**
 * Every Latchkey metric, declared once: services register them through ServiceMetrics, and the
 * README's table is checked against this list. Labels are bounded sets: never a user, request,
 * grant or resource id. Besides these, each process exports Node's default metrics under the same
 * `latchkey_` prefix, all labelled with `service` (and `connector` on connector services).
 */
export const Metric = {
  natsRequestSeconds: def<'subject' | 'outcome'>({
    name: 'latchkey_nats_request_duration_seconds',
    help: 'NATS request round trips by subject template (connector subjects keep {connectorId}) and outcome (ok, error, timeout, unavailable)',
    kind: 'histogram',
    labelNames: ['subject', 'outcome'],
    buckets: FAST_BUCKETS,
    aggregation: 'sum',
    from: 'every service',
  }),
  queueJobs: def<'queue' | 'state'>({
    name: 'latchkey_queue_jobs',
    help: 'BullMQ jobs per queue and state (waiting, active, delayed, prioritized, failed), read from Redis at scrape time',
    kind: 'gauge',
    labelNames: ['queue', 'state'],
    aggregation: 'max',
    from: 'every service',
  }),
  serviceReplicas: def({
    name: 'latchkey_service_replicas',
    help: 'Processes of each service that answered this scrape (0: the service is down)',
    kind: 'gauge',
    labelNames: [],
    aggregation: 'max',
    from: 'api-gateway',
  }),

  requestsCreated: def<'approval'>({
    name: 'latchkey_access_requests_created_total',
    help: 'Access requests created, by approval (manual: waits for approvers; automatic)',
    kind: 'counter',
    labelNames: ['approval'],
    aggregation: 'sum',
    from: 'access',
  }),
  requestsPending: def<'age'>({
    name: 'latchkey_access_requests_pending',
    help: 'PENDING access requests by age band (under_5m, 5m_to_1h, 1h_to_1d, over_1d), from the control database at scrape time',
    kind: 'gauge',
    labelNames: ['age'],
    aggregation: 'max',
    from: 'access',
  }),
  requestApprovalSeconds: def({
    name: 'latchkey_access_request_approval_seconds',
    help: 'Time from an access request to its last needed approval (requests that wait for approvers)',
    kind: 'histogram',
    labelNames: [],
    buckets: WAIT_BUCKETS,
    aggregation: 'sum',
    from: 'access',
  }),
  requestGrantSeconds: def<'approval'>({
    name: 'latchkey_access_request_grant_seconds',
    help: 'Time from an access request to its credentials being ready (GRANTED), by approval (manual, automatic)',
    kind: 'histogram',
    labelNames: ['approval'],
    buckets: WAIT_BUCKETS,
    aggregation: 'sum',
    from: 'access',
  }),
  requestsEnded: def<'status'>({
    name: 'latchkey_access_requests_ended_total',
    help: 'Access requests that ended, by final status (EXPIRED, REVOKED, REJECTED, FAILED)',
    kind: 'counter',
    labelNames: ['status'],
    aggregation: 'sum',
    from: 'access',
  }),
  credentialsUnviewed: def({
    name: 'latchkey_access_credentials_unviewed',
    help: 'GRANTED requests whose password was never read, from the control database at scrape time',
    kind: 'gauge',
    labelNames: [],
    aggregation: 'max',
    from: 'access',
  }),
  credentialsNeverViewed: def({
    name: 'latchkey_access_credentials_never_viewed_total',
    help: 'Grants that ended with their password never read (access nobody used)',
    kind: 'counter',
    labelNames: [],
    aggregation: 'sum',
    from: 'access',
  }),
  auditChainBroken: def({
    name: 'latchkey_audit_chain_broken',
    help: '1 when the last verification of the audit hash chain found a break, else 0',
    kind: 'gauge',
    labelNames: [],
    aggregation: 'max',
    from: 'access',
  }),
  auditVerifications: def<'result'>({
    name: 'latchkey_audit_chain_verifications_total',
    help: 'Verifications of the audit hash chain, by result (intact, broken)',
    kind: 'counter',
    labelNames: ['result'],
    aggregation: 'sum',
    from: 'access',
  }),

  grantsActive: def({
    name: 'latchkey_grants_active',
    help: 'ACTIVE grants of this connector, from the control database at scrape time',
    kind: 'gauge',
    labelNames: [],
    aggregation: 'max',
    from: 'provisioning',
  }),
  revocationsStuck: def({
    name: 'latchkey_revocations_stuck',
    help: 'Grants whose revocation ran out of retries (STUCK, still retried), from the control database at scrape time',
    kind: 'gauge',
    labelNames: [],
    aggregation: 'max',
    from: 'provisioning',
  }),
  revocationsOverdue: def({
    name: 'latchkey_revocations_overdue',
    help: 'Grants past their expiry that are not ended yet, from the control database at scrape time',
    kind: 'gauge',
    labelNames: [],
    aggregation: 'max',
    from: 'provisioning',
  }),
  revocationLatenessSeconds: def({
    name: 'latchkey_revocation_lateness_seconds',
    help: "Seconds from a grant's expiry to its access being taken back (expiries only: a person's revocation has no deadline)",
    kind: 'histogram',
    labelNames: [],
    buckets: LATENESS_BUCKETS,
    aggregation: 'sum',
    from: 'provisioning',
  }),
  revocationAttempts: def({
    name: 'latchkey_revocation_attempts_total',
    help: 'Revocation attempts on target databases',
    kind: 'counter',
    labelNames: [],
    aggregation: 'sum',
    from: 'provisioning',
  }),
  revocationFailures: def({
    name: 'latchkey_revocation_failures_total',
    help: 'Revocation attempts that failed (each is retried; see latchkey_revocations_stuck)',
    kind: 'counter',
    labelNames: [],
    aggregation: 'sum',
    from: 'provisioning',
  }),
  sessionsTerminated: def({
    name: 'latchkey_session_terminations_total',
    help: 'Sessions on target databases ended because a grant ended',
    kind: 'counter',
    labelNames: [],
    aggregation: 'sum',
    from: 'provisioning',
  }),
  sessionTerminationFailures: def({
    name: 'latchkey_session_termination_failures_total',
    help: 'Revocations that could not end the sessions of a role (no right to signal them, or sessions that outlived the deadline)',
    kind: 'counter',
    labelNames: [],
    aggregation: 'sum',
    from: 'provisioning',
  }),

  discoverySeconds: def<'outcome'>({
    name: 'latchkey_discovery_refresh_duration_seconds',
    help: 'Discovery refreshes by outcome (succeeded, failed)',
    kind: 'histogram',
    labelNames: ['outcome'],
    buckets: FAST_BUCKETS,
    aggregation: 'sum',
    from: 'discovery',
  }),
  discoveryResources: def({
    name: 'latchkey_discovery_refresh_resources',
    help: 'Resources (databases, schemas, tables, roles) one successful refresh found',
    kind: 'histogram',
    labelNames: [],
    buckets: [10, 100, 1000, 10_000, 50_000, 100_000],
    aggregation: 'sum',
    from: 'discovery',
  }),
  rotations: def<'result'>({
    name: 'latchkey_rotations_total',
    help: 'Runs of connector credential rotation by result (rotated, repaired, failed)',
    kind: 'counter',
    labelNames: ['result'],
    aggregation: 'sum',
    from: 'rotation',
  }),
} as const;
