import { Queue } from 'bullmq';
import { createLogger, Readiness, ServiceMetrics } from '@latchkey/messaging';
import { QueueHost } from '@latchkey/queues';
import { PrivateRedis, startRedisServer, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { nextAttempt, NotificationJob, notificationsQueue, NotificationsQueue } from './notifications.queue';

/** The notifications queue's jobs queued many at a time, on a Redis of its own. */
let redis: PrivateRedis;
let host: QueueHost<NotificationJob>;
let queue: NotificationsQueue;
let inspect: Queue;

beforeAll(async () => {
  redis = await startRedisServer();
  const logger = createLogger('notifications', 'silent');
  host = new QueueHost(notificationsQueue(1), {
    redis: { url: redis.url },
    connectorId: 'local',
    metrics: new ServiceMetrics('notifications'),
    readiness: new Readiness(logger),
    logger,
  });
  queue = new NotificationsQueue(host);
  inspect = new Queue(host.name, { connection: { host: '127.0.0.1', port: redis.port } });
  await inspect.waitUntilReady();
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await host?.close();
  await inspect?.close();
  await redis?.stop();
});

/** A job's state and delay (ms, 0 when due now), by id. */
async function jobOf(id: string) {
  const job = await inspect.getJob(id);
  if (!job) return undefined;
  return { name: job.name, data: job.data as unknown, state: await job.getState(), delay: job.opts.delay ?? 0 };
}

describe('NotificationsQueue, many jobs in one round trip', () => {
  it("queues each delivery's attempt under its own id, now or at its time", async () => {
    const at = new Date(Date.now() + 60_000);
    await queue.deliverAll([nextAttempt({ id: 'd1', attempts: 0 }), { id: 'd2', attempt: 3, at }]);

    expect(await jobOf('deliver-d1-1')).toEqual({ name: 'deliver', data: { deliveryId: 'd1' }, state: 'waiting', delay: 0 });
    const later = await jobOf('deliver-d2-3');
    expect(later).toMatchObject({ name: 'deliver', data: { deliveryId: 'd2' }, state: 'delayed' });
    expect(later!.delay).toBeGreaterThan(55_000);
    expect(later!.delay).toBeLessThanOrEqual(60_000);
  });

  it('leaves a job whose id exists as it is, as a single add would', async () => {
    await queue.deliver('d3', 2, new Date(Date.now() + 120_000));
    await queue.deliverAll([{ id: 'd3', attempt: 2 }, nextAttempt({ id: 'd4', attempts: 1 })]);

    expect(await jobOf('deliver-d3-2')).toMatchObject({ state: 'delayed' });
    expect(await jobOf('deliver-d4-2')).toMatchObject({ data: { deliveryId: 'd4' }, state: 'waiting' });
  });

  it('queues expiry warnings a window before each grant ends, and pending checks at their moments', async () => {
    const expiresAt = new Date(Date.now() + 10 * 60_000);
    const soon = new Date(Date.now() + 30_000);
    const past = new Date(Date.now() - 1_000);
    await queue.warnAll([{ requestId: 'r1', expiresAt }], 5 * 60_000);
    await queue.checkPendingAll([
      { requestId: 'r2', at: soon },
      { requestId: 'r3', at: past },
    ]);

    const warning = await jobOf(`expiry-warning-r1-${expiresAt.getTime()}`);
    expect(warning).toMatchObject({ name: 'expiry-warning', data: { requestId: 'r1' }, state: 'delayed' });
    expect(warning!.delay).toBeGreaterThan(4 * 60_000);
    expect(warning!.delay).toBeLessThanOrEqual(5 * 60_000);
    expect(await jobOf(`pending-check-r2-${soon.getTime()}`)).toMatchObject({ data: { requestId: 'r2' }, state: 'delayed' });
    expect(await jobOf(`pending-check-r3-${past.getTime()}`)).toEqual({ name: 'pending-check', data: { requestId: 'r3' }, state: 'waiting', delay: 0 });
  });

  it('sends nothing for nothing', async () => {
    const before = await inspect.getJobCounts();
    await queue.deliverAll([]);
    await queue.warnAll([], 60_000);
    await queue.checkPendingAll([]);
    expect(await inspect.getJobCounts()).toEqual(before);
  });
});
