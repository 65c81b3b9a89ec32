import { createLogger } from './logger';
import { Metric, type MetricDef } from './metric-catalogue';
import { Readiness } from './readiness';
import { ServiceMetrics } from './service-metrics';

const valuesOf = async (metrics: ServiceMetrics, name: string) => (await metrics.collect()).find((m) => m.name === name)?.values;

describe('ServiceMetrics', () => {
  it("labels every value with the service (and connector), Node's default metrics included, under the latchkey_ prefix", async () => {
    const metrics = new ServiceMetrics('provisioning', 'local');
    metrics.counter(Metric.revocationAttempts).inc(2);
    const all = await metrics.collect();
    expect(all.find((m) => m.name === 'latchkey_revocation_attempts_total')).toMatchObject({
      type: 'counter',
      aggregator: 'sum',
      values: [{ value: 2, labels: { service: 'provisioning', connector: 'local' } }],
    });
    const rss = all.find((m) => m.name === 'latchkey_process_resident_memory_bytes');
    expect(rss?.values[0].labels).toEqual({ service: 'provisioning', connector: 'local' });
    expect(all.every((m) => m.name.startsWith('latchkey_'))).toBe(true);
  });

  it('gives two call sites the same metric, and refuses a definition used as another kind', async () => {
    const metrics = new ServiceMetrics('access');
    metrics.counter(Metric.requestsCreated).inc({ approval: 'manual' });
    metrics.counter(Metric.requestsCreated).inc({ approval: 'manual' });
    expect(await valuesOf(metrics, 'latchkey_access_requests_created_total')).toEqual([{ value: 2, labels: { approval: 'manual', service: 'access' } }]);
    expect(() => metrics.gauge(Metric.requestsCreated)).toThrow('latchkey_access_requests_created_total is a counter, not a gauge');
  });

  it('reads a state gauge at every scrape, drops values not read again, and leaves the gauge out when the read fails', async () => {
    const metrics = new ServiceMetrics('access');
    let answer: Array<{ labels: { age: string }; value: number }> | Error = [
      { labels: { age: 'under_5m' }, value: 3 },
      { labels: { age: 'over_1d' }, value: 1 },
    ];
    metrics.gauge(Metric.requestsPending, async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    });
    expect(await valuesOf(metrics, 'latchkey_access_requests_pending')).toEqual([
      { value: 3, labels: { age: 'under_5m', service: 'access' } },
      { value: 1, labels: { age: 'over_1d', service: 'access' } },
    ]);
    answer = [{ labels: { age: 'under_5m' }, value: 0 }];
    expect(await valuesOf(metrics, 'latchkey_access_requests_pending')).toEqual([{ value: 0, labels: { age: 'under_5m', service: 'access' } }]);
    answer = new Error('control database down');
    expect(await valuesOf(metrics, 'latchkey_access_requests_pending')).toBeUndefined();
    // A read that hangs is left out too, and the rest of the scrape answers.
    metrics.gauge(Metric.credentialsUnviewed, () => new Promise(() => undefined));
    expect(await valuesOf(metrics, 'latchkey_access_credentials_unviewed')).toBeUndefined();
    expect(await valuesOf(metrics, 'latchkey_process_cpu_seconds_total')).toBeDefined();
  });

  it("reports each observed queue's jobs per state", async () => {
    const metrics = new ServiceMetrics('access');
    const queue = (name: string, counts: Record<string, number>) => ({ name, getJobCounts: async () => counts });
    metrics.observeQueue(queue('access-grants', { waiting: 2, delayed: 1 }), Metric.queueJobs);
    metrics.observeQueue(queue('other', { active: 4 }), Metric.queueJobs);
    let connected = true;
    metrics.observeQueue({ name: 'third', getJobCounts: () => new Promise(() => undefined) }, Metric.queueJobs, () => connected);
    connected = false;
    // A queue whose Redis is down leaves the gauge out, rather than waiting for Redis or reporting zeros.
    expect(await valuesOf(metrics, 'latchkey_queue_jobs')).toBeUndefined();
    metrics.observeQueue(queue('third', { waiting: 0 }), Metric.queueJobs);
    const values = await valuesOf(metrics, 'latchkey_queue_jobs');
    expect(values).toHaveLength(15);
    expect(values).toEqual(
      expect.arrayContaining([
        { value: 2, labels: { queue: 'access-grants', state: 'waiting', service: 'access' } },
        { value: 1, labels: { queue: 'access-grants', state: 'delayed', service: 'access' } },
        { value: 0, labels: { queue: 'access-grants', state: 'failed', service: 'access' } },
        { value: 4, labels: { queue: 'other', state: 'active', service: 'access' } },
      ]),
    );
  });
});

describe('the metric catalogue follows Prometheus conventions', () => {
  const defs: MetricDef[] = Object.values(Metric);
  /** Labels whose values would be unbounded (one series per person, request or object). */
  const UNBOUNDED = /(^|_)(id|ids|user|email|request|grant|resource|path|table|role|username|name)$/;

  it.each(defs.map((d) => [d.name, d] as const))('%s', (name, d) => {
    expect(name).toMatch(/^latchkey_[a-z][a-z0-9_]*$/);
    if (d.kind === 'counter') expect(name).toMatch(/_total$/);
    else expect(name).not.toMatch(/_total$/);
    if (/duration|seconds|lateness|_time/.test(name)) expect(name).toMatch(/_seconds$/);
    for (const label of d.labelNames) expect({ name, label, unbounded: UNBOUNDED.test(label) }).toEqual({ name, label, unbounded: false });
    expect(d.labelNames).not.toContain('service');
    if (d.kind === 'histogram') expect(d.buckets?.length).toBeGreaterThan(0);
    // Per-process counts add up across replicas; state read from shared places must not double.
    if (d.kind !== 'gauge') expect(d.aggregation).toBe('sum');
  });

  it('declares each name once', () => {
    expect(new Set(defs.map((d) => d.name)).size).toBe(defs.length);
  });
});

describe('Readiness', () => {
  const logger = createLogger('access', 'silent');

  it('is ready when every dependency answers, and names the one that does not (a hanging one included)', async () => {
    const readiness = new Readiness(logger);
    readiness.register('database', async () => 1);
    expect(await readiness.check()).toEqual({ ready: true, checks: { database: 'ok' } });
    readiness.register('redis', () => Promise.reject(new Error('Redis connection is reconnecting')));
    readiness.register('nats', () => new Promise(() => undefined));
    expect(await readiness.check()).toEqual({ ready: false, checks: { database: 'ok', nats: 'down', redis: 'down' } });
  });
});
