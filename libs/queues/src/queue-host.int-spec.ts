import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { createLogger, Readiness, ServiceMetrics } from '@latchkey/messaging';
import { STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { defineQueue } from './queue-definition';
import { QueueHost } from './queue-host';
import { QueueName } from './queues';

// The shared Redis of the machine: every test has a queue of its own, obliterated after it.
const REDIS_URL = 'redis://127.0.0.1:6379';

const rotations = defineQueue({
  name: QueueName.Rotation,
  perConnector: true,
  jobs: ['rotate-integration'],
  jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: true, removeOnFail: true },
  worker: { concurrency: 1 },
  failureMessage: 'scheduled rotation failed',
});
const integrationId = '3b241101-e2bb-4255-8caf-4136c566a962';

/** A logger writing its JSON lines into `lines`. */
function recordingLogger(lines: Array<Record<string, unknown>>) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return createLogger('rotation', 'info', sink);
}

let lines: Array<Record<string, unknown>>;
let host: QueueHost<'rotate-integration'>;
let inspect: Queue;

beforeEach(async () => {
  lines = [];
  const logger = recordingLogger(lines);
  host = new QueueHost(rotations, {
    redis: { url: REDIS_URL },
    connectorId: `int-${randomUUID()}`,
    metrics: new ServiceMetrics('rotation'),
    readiness: new Readiness(logger),
    logger,
  });
  inspect = new Queue(host.name, { connection: { host: '127.0.0.1', port: 6379 } });
  await inspect.waitUntilReady();
}, STARTUP_TIMEOUT_MS);

afterEach(async () => {
  await host.close();
  await inspect.obliterate({ force: true });
  await inspect.close();
});

const until = async (done: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 800 && !(await done()); i += 1) await new Promise((r) => setTimeout(r, 25));
};

describe('QueueHost', () => {
  it("is the connector's own queue", () => {
    expect(host.name).toMatch(/^rotation-int-[0-9a-f-]{36}$/);
  });

  it("gives every job the definition's options, with nothing of BullMQ's or anyone else's", async () => {
    await host.add('rotate-integration', { integrationId }, { jobId: 'rotate-integration-a', delay: 60_000 });
    const job = await inspect.getJob('rotate-integration-a');
    expect(job?.data).toEqual({ integrationId });
    expect(job?.opts).toMatchObject({ attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: true, removeOnFail: true, delay: 60_000 });
    expect((await host.job('rotate-integration-a'))?.id).toBe('rotate-integration-a');
    await host.remove('rotate-integration-a');
    expect(await inspect.getJob('rotate-integration-a')).toBeUndefined();
  });

  it("adds jobs in bulk with the definition's options and leaves a job whose id exists as it is", async () => {
    await host.add('rotate-integration', { integrationId }, { jobId: 'rotate-integration-delayed', delay: 60_000 });
    const other = '0f8fad5b-d9cb-469f-a165-70867728950e';
    await host.addBulk([
      { name: 'rotate-integration', data: { integrationId: other }, opts: { jobId: 'rotate-integration-delayed' } },
      { name: 'rotate-integration', data: { integrationId: other }, opts: { jobId: 'rotate-integration-new' } },
    ]);
    const kept = await inspect.getJob('rotate-integration-delayed');
    // Still the first job: its payload, its delay, still waiting for its time.
    expect(kept?.data).toEqual({ integrationId });
    expect(await kept?.getState()).toBe('delayed');
    const added = await inspect.getJob('rotate-integration-new');
    expect(added?.data).toEqual({ integrationId: other });
    expect(added?.opts).toMatchObject({ attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: true, removeOnFail: true });
    expect(await added?.getState()).toBe('waiting');
  });

  it("adds, lists and removes typed job schedulers whose jobs get the definition's options", async () => {
    const startDate = Date.now() + 3_600_000;
    await host.upsertScheduler('rotate-integration-a-due', { every: 86_400_000, startDate }, { name: 'rotate-integration', data: { integrationId } });
    expect(await host.scheduler('rotate-integration-a-due')).toEqual({ every: 86_400_000, startDate });
    expect(await host.schedulers()).toEqual([
      { id: 'rotate-integration-a-due', every: 86_400_000, startDate, name: 'rotate-integration', data: { integrationId } },
    ]);
    const [raw] = await inspect.getJobSchedulers();
    expect(raw.template?.opts).toMatchObject({ attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: true, removeOnFail: true });

    await host.removeScheduler('rotate-integration-a-due');
    expect(await host.scheduler('rotate-integration-a-due')).toBeUndefined();
    expect(await host.schedulers()).toEqual([]);
  });

  it("logs each failed attempt with the job's name, id, attempt and the payload's ids", async () => {
    host.process({ 'rotate-integration': () => Promise.reject(new Error('target unreachable')) });
    await host.add('rotate-integration', { integrationId }, { jobId: 'rotate-integration-b' });
    await until(() => lines.filter((l) => l.msg === 'scheduled rotation failed').length === 2);
    const failures = lines.filter((l) => l.msg === 'scheduled rotation failed');
    expect(failures.map((l) => [l.queue, l.job, l.jobId, l.attempt, l.integrationId, (l.err as { message?: string }).message])).toEqual([
      [host.name, 'rotate-integration', 'rotate-integration-b', 1, integrationId, 'target unreachable'],
      [host.name, 'rotate-integration', 'rotate-integration-b', 2, integrationId, 'target unreachable'],
    ]);
  });

  it('closes the worker, then the queue, then its own connection', async () => {
    host.process({ 'rotate-integration': () => Promise.resolve() });
    await until(async () => (await inspect.getWorkers()).length === 1);
    expect(await inspect.getWorkers()).toHaveLength(1);
    expect(host.connected).toBe(true);

    await host.close();
    expect(await inspect.getWorkers()).toEqual([]);
    // ioredis ends the socket on its own time after disconnect().
    await until(() => !host.connected);
    expect(host.connected).toBe(false);
  });
});
