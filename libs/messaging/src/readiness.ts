import { createServer, type Server } from 'node:http';
import type { DependencyStatus } from '@latchkey/contracts';
import type { AppLogger } from './logger';
import { Metric } from './metric-catalogue';
import type { ObservedQueue, ServiceMetrics } from './service-metrics';

/** How long one dependency may take to answer a readiness check. */
const CHECK_TIMEOUT_MS = 2_000;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, DependencyStatus>;
}

/**
 * The dependencies a process needs to do its work, each with a cheap check (`SELECT 1`, a Redis
 * PING, a NATS round trip). Ready when every check answers within CHECK_TIMEOUT_MS. Why a check
 * failed goes to the log only: reports are public (`/health`, probes).
 */
export class Readiness {
  private readonly checks = new Map<string, () => Promise<unknown>>();

  constructor(private readonly logger: AppLogger) {}

  /** Registers (or replaces) the check of a dependency; a second module with the same dependency shares the name. */
  register(name: string, check: () => Promise<unknown>): void {
    this.checks.set(name, check);
  }

  async check(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, DependencyStatus]> => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
          ]);
          return [name, 'ok'];
        } catch (err) {
          this.logger.warn({ dependency: name, reason: err instanceof Error ? err.message : String(err) }, 'readiness check failed');
          return [name, 'down'];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
    return { ready: entries.every(([, status]) => status === 'ok'), checks };
  }
}

/** A Redis client's readiness check: ioredis queues commands while disconnected, so a PING alone would wait. */
export const redisCheck = (redis: { status: string; ping(): Promise<unknown> }) => () =>
  redis.status === 'ready' ? redis.ping() : Promise.reject(new Error(`Redis connection is ${redis.status}`));

/** A BullMQ queue's depth in latchkey_queue_jobs and its Redis connection in readiness, in one call from the queue's owner. */
export function watchQueue(metrics: ServiceMetrics, readiness: Readiness, queue: ObservedQueue, redis: { status: string; ping(): Promise<unknown> }): void {
  metrics.observeQueue(queue, Metric.queueJobs, () => redis.status === 'ready');
  readiness.register('redis', redisCheck(redis));
}

/**
 * `GET /livez` (200 while the process answers) and `GET /readyz` (200 when ready, else 503), with
 * the dependencies' statuses, for orchestrators on a port of its own (services speak only NATS).
 */
export async function startProbeListener(readiness: Readiness, port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { code: 'METHOD_NOT_ALLOWED', message: 'Only GET.' });
    if (path === '/livez') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      void readiness.check().then((r) => send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks }));
      return;
    }
    send(404, { code: 'NOT_FOUND', message: 'Probes: GET /livez, GET /readyz.' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
