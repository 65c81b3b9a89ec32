import { Job, Queue, Worker } from 'bullmq';
import type { Processor } from 'bullmq';
import { Cluster } from 'ioredis';
import type { FactoryProvider } from '@nestjs/common';
import { LOGGER, Readiness, SERVICE_INFO, ServiceMetrics, watchQueue } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { handlerMismatch, JobHandlers, payloadIds, QueueDefinition, queueNameOf } from './queue-definition';
import { createRedis, JobMap, JobName, queuePrefix, RedisConnection } from './queues';

export interface QueueHostOptions {
  /** A connection the host makes (from REDIS_URL) and ends at close, or one it is lent and leaves open. */
  redis: { url: string } | { lent: RedisConnection };
  /** The service's connector, for per-connector queues. */
  connectorId?: string;
  metrics: ServiceMetrics;
  readiness: Readiness;
  logger: Pick<AppLogger, 'warn'>;
}

/** When a job scheduler runs: every `every` ms, the first time at `startDate` (epoch ms). */
export interface Schedule {
  every?: number;
  startDate?: number;
}

/** A job scheduler of the queue, with the typed payload of the jobs it adds. */
export interface ScheduledJobs<N extends JobName> extends Schedule {
  id: string;
  name: N;
  data: JobMap[N];
}

/**
 * One queue of a definition in a running service: its Redis connection, the BullMQ queue (the
 * definition's job options as defaults), readiness and depth metrics, its job schedulers, and
 * (in the service that processes it) the worker with its logging. `close` ends them in order:
 * worker, queue, connection.
 */
export class QueueHost<N extends JobName> {
  readonly name: string;
  private readonly redis: RedisConnection;
  private readonly ownsRedis: boolean;
  private readonly queue: Queue;
  private readonly logger: Pick<AppLogger, 'warn'>;
  private worker?: { worker: Worker; connection: RedisConnection };
  private closing?: Promise<void>;

  constructor(
    private readonly definition: QueueDefinition<N>,
    options: QueueHostOptions,
  ) {
    this.name = queueNameOf(definition, options.connectorId);
    this.ownsRedis = 'url' in options.redis;
    this.redis = 'url' in options.redis ? createRedis(options.redis.url) : options.redis.lent;
    this.logger = options.logger;
    this.queue = new Queue(this.name, { connection: this.redis, prefix: queuePrefix(this.redis, this.name), defaultJobOptions: definition.jobOptions });
    watchQueue(options.metrics, options.readiness, this.queue, this.redis);
  }

  /** Whether Redis answers now (ioredis would otherwise hold commands until it is back). */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Adds a job under its deterministic id: adding it again while it exists is a no-op. */
  async add<K extends N>(name: K, data: JobMap[K], opts: { jobId: string; delay?: number }): Promise<void> {
    await this.queue.add(name, data, opts);
  }

  /** Adds jobs in one round trip, each under its deterministic id: one whose id exists is left as it is. */
  async addBulk<K extends N>(jobs: Array<{ name: K; data: JobMap[K]; opts: { jobId: string; delay?: number } }>): Promise<void> {
    await this.queue.addBulk(jobs);
  }

  job(jobId: string): Promise<Job | undefined> {
    return this.queue.getJob(jobId);
  }

  async remove(jobId: string): Promise<void> {
    await this.queue.remove(jobId);
  }

  /** Creates or changes a job scheduler; its jobs get the definition's job options like any other. */
  async upsertScheduler<K extends N>(id: string, schedule: Schedule, template: { name: K; data: JobMap[K] }): Promise<void> {
    await this.queue.upsertJobScheduler(id, schedule, template);
  }

  async scheduler(id: string): Promise<Schedule | undefined> {
    const found = await this.queue.getJobScheduler(id);
    return found ? { every: found.every, startDate: found.startDate } : undefined;
  }

  async removeScheduler(id: string): Promise<void> {
    await this.queue.removeJobScheduler(id);
  }

  /** Every job scheduler of the queue. */
  async schedulers(): Promise<ScheduledJobs<N>[]> {
    const found = await this.queue.getJobSchedulers(0, -1);
    // The queue's own templates: only this host's typed upsertScheduler writes them.
    return found.map((s) => ({ id: s.key, every: s.every, startDate: s.startDate, name: s.name as N, data: s.template?.data as JobMap[N] }));
  }

  /**
   * Starts the worker, on its own duplicate of the connection (a worker blocks on it), with one
   * handler per job of the definition (refused otherwise: a job nobody handles would fail forever).
   */
  process(handlers: JobHandlers<N>): void {
    if (this.worker) throw new Error(`queue ${this.name} already has a worker`);
    const mismatch = handlerMismatch(this.definition, handlers);
    if (mismatch.length > 0) throw new Error(`queue ${this.name}: ${mismatch.join('; ')}`);
    // The job's name picks its handler, so its payload is that handler's type.
    const byName = handlers as Record<string, ((data: unknown, job: Job) => Promise<unknown>) | undefined>;
    const processor: Processor = async (job) => {
      const handler = byName[job.name];
      if (!handler) throw new Error(`no handler for job ${job.name} on ${this.name}`);
      return handler(job.data, job);
    };
    // Narrowed first: the two duplicate() signatures of the union cannot be called as one.
    const connection: RedisConnection = this.redis instanceof Cluster ? this.redis.duplicate() : this.redis.duplicate();
    const worker = new Worker(this.name, processor, { connection, prefix: queuePrefix(this.redis, this.name), ...this.definition.worker });
    worker.on('error', (err) => this.logger.warn({ err, queue: this.name }, 'queue worker error'));
    worker.on('failed', (job, err) =>
      this.logger.warn(
        { err, queue: this.name, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, ...payloadIds(job?.data) },
        this.definition.failureMessage,
      ),
    );
    this.worker = { worker, connection };
  }

  /** Stops taking jobs and waits for the running ones. BullMQ never closes a connection it was given, so this ends the worker's. */
  async stopProcessing(): Promise<void> {
    const running = this.worker;
    this.worker = undefined;
    if (!running) return;
    try {
      await running.worker.close();
    } finally {
      running.connection.disconnect();
    }
  }

  /** Ends the worker, the queue and (if the host made it) the connection, once however often it is called. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.stopProcessing();
        await this.queue.close();
      } finally {
        if (this.ownsRedis) this.redis.disconnect();
      }
    })();
    return this.closing;
  }

  /** Nest calls it after the providers that use the host (the processor among them) have stopped. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

/**
 * The Nest provider of a queue's host under `token`, on its own connection to `redisUrl`, with the
 * service's connector id, metrics, readiness and logger.
 */
export function provideQueueHost<N extends JobName>(token: symbol, definition: QueueDefinition<N>, redisUrl: string): FactoryProvider<QueueHost<N>> {
  return {
    provide: token,
    inject: [SERVICE_INFO, ServiceMetrics, Readiness, LOGGER],
    useFactory: (info: ServiceInfo, metrics: ServiceMetrics, readiness: Readiness, logger: AppLogger) =>
      new QueueHost(definition, { redis: { url: redisUrl }, connectorId: info.connectorId, metrics, readiness, logger }),
  };
}
