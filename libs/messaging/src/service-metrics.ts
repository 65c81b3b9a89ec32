import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProcessMetric, ServiceName } from '@latchkey/contracts';
import type { MetricDef } from './metric-catalogue';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** A queue whose job counts are read at scrape time (BullMQ's Queue fits). */
export interface ObservedQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'];
/** How long one metric's read may take at a scrape before it is left out of it (a dependency that hangs). */
const READ_TIMEOUT_MS = 2_000;

/**
 * One process's Prometheus registry. Every metric is declared in `Metric` (metric-catalogue.ts)
 * and registered here on first use, so two call sites share it. Counters and histograms count what
 * this process did; gauges that describe shared state are read at scrape time (`gauge(def, read)`)
 * so every replica reports the same figure. Node's default metrics come with the same prefix.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter<string> | Gauge<string> | Histogram<string>>();
  private readonly queues = new Map<string, { queue: ObservedQueue; connected: () => boolean }>();
  private readonly defaultLabels: Record<string, string>;

  constructor(service: ServiceName, connectorId?: string) {
    this.defaultLabels = { service, ...(connectorId ? { connector: connectorId } : {}) };
    this.registry.setDefaultLabels(this.defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: 'latchkey_' });
  }

  counter<L extends string>(def: MetricDef<L>): Counter<L> {
    return this.get(def, 'counter', () => new Counter<L>({ ...this.base(def) })) as Counter<L>;
  }

  histogram<L extends string>(def: MetricDef<L>): Histogram<L> {
    return this.get(def, 'histogram', () => new Histogram<L>({ ...this.base(def), buckets: [...(def.buckets ?? [])] })) as Histogram<L>;
  }

  /**
   * A gauge; with `read`, its values are read at every scrape (values not read again disappear).
   * A failed read leaves the gauge out of that scrape rather than reporting a stale or false figure.
   */
  gauge<L extends string>(def: MetricDef<L>, read?: () => Promise<Array<{ labels?: Labels<L>; value: number }>>): Gauge<L> {
    return this.get(def, 'gauge', () => {
      if (!read) return new Gauge<L>({ ...this.base(def) });
      return new Gauge<L>({
        ...this.base(def),
        async collect() {
          this.reset();
          for (const { labels, value } of await read()) {
            if (labels) this.set(labels as never, value);
            else this.set(value);
          }
        },
      });
    }) as Gauge<L>;
  }

  /**
   * Reports the queue's job counts per state (latchkey_queue_jobs) at each scrape, while `connected`
   * says its Redis connection is up (ioredis would queue the read until Redis is back).
   */
  observeQueue(queue: ObservedQueue, def: MetricDef<'queue' | 'state'>, connected: () => boolean = () => true): void {
    this.queues.set(queue.name, { queue, connected });
    this.gauge(def, async () => {
      const rows: Array<{ labels: Labels<'queue' | 'state'>; value: number }> = [];
      for (const { queue: q, connected: up } of this.queues.values()) {
        if (!up()) throw new Error(`the Redis connection of queue ${q.name} is down`);
        const counts = await q.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) rows.push({ labels: { queue: q.name, state }, value: counts[state] ?? 0 });
      }
      return rows;
    });
  }

  /**
   * This process's metrics, as the gateway gathers them. A gauge whose read fails or takes more
   * than READ_TIMEOUT_MS is left out of this scrape (readiness names the dependency at fault).
   */
  async collect(): Promise<ProcessMetric[]> {
    const metrics = this.registry.getMetricsAsArray() as unknown as Array<{ get(): Promise<ProcessMetric> }>;
    const read = await Promise.all(metrics.map((metric) => withTimeout(metric.get(), READ_TIMEOUT_MS).catch(() => null)));
    return read
      .filter((json): json is ProcessMetric => json !== null)
      .map((json) => ({
        name: json.name,
        help: json.help,
        type: json.type,
        aggregator: json.aggregator ?? 'sum',
        values: json.values.map((v) => ({ ...v, labels: { ...v.labels, ...this.defaultLabels } })),
      }));
  }

  private base<L extends string>(def: MetricDef<L>) {
    return { name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [this.registry], aggregator: def.aggregation };
  }

  private get(def: MetricDef<string>, kind: MetricDef['kind'], make: () => Counter<string> | Gauge<string> | Histogram<string>) {
    if (def.kind !== kind) throw new Error(`${def.name} is a ${def.kind}, not a ${kind}`);
    let metric = this.metrics.get(def.name);
    if (!metric) {
      metric = make();
      this.metrics.set(def.name, metric);
    }
    return metric;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
