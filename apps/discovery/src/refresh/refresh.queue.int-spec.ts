import { Queue, Worker } from 'bullmq';
import { createLogger, Readiness, ServiceMetrics } from '@latchkey/messaging';
import { createRedis, QueueHost } from '@latchkey/queues';
import type { RedisConnection } from '@latchkey/queues';
import { type PrivateRedis, startRedisServer, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { RefreshQueue, refreshQueue } from './refresh.queue';

const logger = createLogger('discovery', 'silent');
/** The host the module provides, on the test's connection (lent: the test ends it). */
const hostOn = (redis: RedisConnection) =>
  new QueueHost(refreshQueue, {
    redis: { lent: redis },
    connectorId: 'int-test',
    metrics: new ServiceMetrics('discovery', 'int-test'),
    readiness: new Readiness(logger),
    logger,
  });
const integrationId = '3b241101-e2bb-4255-8caf-4136c566a962';

let redis: PrivateRedis;
let connection: RedisConnection;
let host: QueueHost<'refresh-integration'>;
let queue: RefreshQueue;
let inspect: Queue;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = createRedis(redis.url);
}, STARTUP_TIMEOUT_MS);

beforeEach(async () => {
  await redis.flushAll();
  host = hostOn(connection);
  queue = new RefreshQueue(host, 3_600_000);
  // Connection options, not instances: BullMQ closes only the connections it made itself.
  inspect = new Queue(host.name, { connection: { host: '127.0.0.1', port: redis.port } });
});

afterEach(async () => {
  await host.close();
  await inspect.close();
});

afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
});

describe('RefreshQueue', () => {
  it("is the connector's own queue", () => {
    expect(host.name).toBe('discovery-int-test');
  });

  it('queues one refresh per integration under a deterministic id; asking again while it waits adds nothing', async () => {
    expect(await queue.enqueue(integrationId)).toEqual({ jobId: `refresh-integration-${integrationId}`, queued: true });
    expect(await queue.enqueue(integrationId)).toEqual({ jobId: `refresh-integration-${integrationId}`, queued: false });
    const jobs = await inspect.getJobs(['waiting']);
    expect(jobs.map((j) => [j.id, j.name, j.data])).toEqual([[`refresh-integration-${integrationId}`, 'refresh-integration', { integrationId }]]);
  });

  it('queues one follow-up behind a running refresh, and a fresh job once both are done', async () => {
    const primary = `refresh-integration-${integrationId}`;
    const followUp = `${primary}-next`;
    await queue.enqueue(integrationId);
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    const worker = new Worker(
      host.name,
      async () => {
        running();
        await hold;
      },
      { connection: { host: '127.0.0.1', port: redis.port } },
    );
    try {
      await started;
      expect(await queue.enqueue(integrationId)).toEqual({ jobId: followUp, queued: true });
      expect(await queue.enqueue(integrationId)).toEqual({ jobId: followUp, queued: false });
      release();
      for (let i = 0; i < 400 && ((await inspect.getJob(primary)) || (await inspect.getJob(followUp))); i += 1) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.close();
    }
    // Finished jobs are not kept, so the deterministic id is free again.
    expect(await inspect.getJob(primary)).toBeUndefined();
    expect(await queue.enqueue(integrationId)).toEqual({ jobId: primary, queued: true });
  });

  it('schedules each integration once, first run one interval away; reports when it had to create the schedule', async () => {
    const before = Date.now();
    expect(await queue.ensureSchedule(integrationId)).toBe(true);
    expect(await queue.ensureSchedule(integrationId)).toBe(false);
    expect(await queue.scheduled()).toEqual([integrationId]);
    const [scheduler] = await inspect.getJobSchedulers();
    expect(scheduler).toMatchObject({ every: 3_600_000, name: 'refresh-integration', template: { data: { integrationId } } });
    expect(scheduler.next).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(await inspect.getJobs(['waiting', 'active'])).toEqual([]);

    // A new interval replaces the schedule (the service restarted with another DISCOVERY_REFRESH_MINUTES).
    const fasterHost = hostOn(connection);
    const faster = new RefreshQueue(fasterHost, 60_000);
    expect(await faster.ensureSchedule(integrationId)).toBe(false);
    expect((await inspect.getJobSchedulers()).map((s) => s.every)).toEqual([60_000]);
    await fasterHost.close();

    await queue.unschedule(integrationId);
    expect(await queue.scheduled()).toEqual([]);
  });
});
