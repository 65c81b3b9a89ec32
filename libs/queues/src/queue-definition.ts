import type { DefaultJobOptions, Job, WorkerOptions } from 'bullmq';
import { connectorQueue, JobMap, JobName, QueueName } from './queues';

/** The worker settings a queue may choose; the connection and prefix come from its host. */
export type WorkerSettings = Pick<WorkerOptions, 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>;

/**
 * Everything about one queue, in one place: its name, the jobs it carries, the options every job
 * gets (BullMQ's `defaultJobOptions`, so adding a job never repeats them) and how its worker runs.
 */
export interface QueueDefinition<N extends JobName> {
  readonly name: QueueName;
  /** Per connector: the queue is `<name>-<connectorId>` (connector services reach target databases). */
  readonly perConnector: boolean;
  readonly jobs: readonly N[];
  readonly jobOptions: DefaultJobOptions;
  readonly worker: WorkerSettings;
  /** The message of the log line of a failed attempt (it carries the job's name, id, attempt and ids). */
  readonly failureMessage: string;
}

export const defineQueue = <N extends JobName>(definition: QueueDefinition<N>): QueueDefinition<N> => definition;

/** One handler per job of the queue, given the job's typed payload and the BullMQ job. */
export type JobHandlers<N extends JobName> = { [K in N]: (data: JobMap[K], job: Job) => Promise<unknown> };

/** The queue's name in Redis: per-connector queues carry the connector's id. */
export function queueNameOf(definition: QueueDefinition<JobName>, connectorId: string | undefined): string {
  if (!definition.perConnector) return definition.name;
  if (!connectorId) throw new Error(`queue ${definition.name} is per connector: this service has no connector id`);
  return connectorQueue(definition.name, connectorId);
}

/**
 * What a log line may say about a job's payload: its ids (string fields named `...Id`). Payloads
 * carry only ids by rule; this keeps a payload that broke the rule out of the logs all the same.
 */
export function payloadIds(data: unknown): Record<string, string> {
  if (typeof data !== 'object' || data === null) return {};
  return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, string] => /Id$/.test(entry[0]) && typeof entry[1] === 'string'));
}

/** The jobs of the definition that `handlers` leaves without a handler, and the handlers of jobs it does not carry. */
export function handlerMismatch(definition: QueueDefinition<JobName>, handlers: object): string[] {
  const named = Object.keys(handlers);
  return [
    ...definition.jobs.filter((job) => !named.includes(job)).map((job) => `no handler for ${job}`),
    ...named
      .filter((name) => !(definition.jobs as readonly string[]).includes(name))
      .map((name) => `a handler for ${name}, which ${definition.name} does not carry`),
  ];
}
