import { JobsOptions, Queue, Worker, Processor, WorkerOptions } from 'bullmq';
import IORedis, { Redis } from 'ioredis';

/**
 * Every BullMQ queue of Latchkey. NEVER rename one: jobs already waiting in Redis under the old
 * name would never run. Queues that reach target databases are per connector.
 */
export const QueueName = {
  Revocations: 'revocations',
  Discovery: 'discovery',
  /** The access service's grants of approved requests (not per connector: it reaches provisioning over NATS). */
  AccessGrants: 'access-grants',
  Rotation: 'rotation',
  /** Webhook and email deliveries, expiry warnings (the timing only: the control database holds what is due). */
  Notifications: 'notifications',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** Job name -> payload. Payloads carry ids, never secrets or entities: handlers re-read state. */
export interface JobMap {
  'revoke-grant': { grantId: string };
  'refresh-integration': { integrationId: string };
  /** Make (or, for a request revoked meanwhile, take back) the grant of an approved access request. */
  'grant-request': { requestId: string };
  'rotate-integration': { integrationId: string };
  /** One attempt of a webhook or email delivery. */
  'deliver': { deliveryId: string };
  /** A granted request's end is near: warn its requester. */
  'expiry-warning': { requestId: string };
  /** A pending request may be due for a reminder to its approvers or an escalation tier. */
  'pending-check': { requestId: string };
}
export type JobName = keyof JobMap;

export const connectorQueue = (queue: QueueName, connectorId: string): string => `${queue}-${connectorId}`;

/** BullMQ job ids may not contain ':' and must not look like integers. */
export const jobIdFor = (name: JobName, id: string): string => `${name}-${id}`.replace(/:/g, '_');

/** One ioredis connection for BullMQ: workers need maxRetriesPerRequest null to wait out Redis restarts. */
export function createRedis(url: string): Redis {
  return new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export class TypedQueue<N extends JobName> {
  readonly queue: Queue;

  constructor(name: string, connection: Redis, defaultJobOptions: JobsOptions = {}) {
    this.queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 5000, ...defaultJobOptions } });
  }

  /** Adds a job under its deterministic id: adding it again while it exists is a no-op. */
  add<K extends N>(name: K, data: JobMap[K], opts: JobsOptions & { jobId: string }) {
    return this.queue.add(name, data, opts);
  }

  close() {
    return this.queue.close();
  }
}

/** A BullMQ worker with the connection it blocks on; `close` ends both. */
export interface ManagedWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

/**
 * A worker on its own duplicate of `redis` (a worker blocks on its connection). BullMQ never
 * closes a connection it was given, so `close` disconnects the duplicate after the worker stops.
 */
export function createWorker<N extends JobName>(
  name: string,
  redis: Redis,
  handlers: { [K in N]: (data: JobMap[K], job: Parameters<Processor>[0]) => Promise<unknown> },
  options: Omit<WorkerOptions, 'connection'> = {},
): ManagedWorker {
  const processor: Processor = async (job) => {
    const handler = (handlers as Record<string, ((data: unknown, job: unknown) => Promise<unknown>) | undefined>)[job.name];
    if (!handler) throw new Error(`no handler for job ${job.name} on ${name}`);
    return handler(job.data, job);
  };
  const connection = redis.duplicate();
  const worker = new Worker(name, processor, { connection, ...options });
  return {
    worker,
    close: async () => {
      try {
        await worker.close();
      } finally {
        connection.disconnect();
      }
    },
  };
}
