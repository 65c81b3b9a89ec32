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

/**
 * One process's Prometheus registry. Every metric is declared in `Metric` (metric-catalogue.ts)
 * and registered here on first use, so two call sites share it. Counters and histograms count what
 * this process did; gauges that describe shared state are read at scrape time (`gauge(def, read)`)
 * so every replica reports the same figure. Node's default metrics come with the same prefix.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter<string> | Gauge<string> | Histogram<string>>();
  private readonly queues = new Map<string, ObservedQueue>();
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

  /** Reports the queue's job counts per state (latchkey_queue_jobs) at each scrape. */
  observeQueue(queue: ObservedQueue, def: MetricDef<'queue' | 'state'>): void {
    this.queues.set(queue.name, queue);
    this.gauge(def, async () => {
      const rows: Array<{ labels: Labels<'queue' | 'state'>; value: number }> = [];
      for (const q of this.queues.values()) {
        const counts = await q.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) rows.push({ labels: { queue: q.name, state }, value: counts[state] ?? 0 });
      }
      return rows;
    });
  }

  /** This process's metrics, as the gateway gathers them; a gauge whose read fails is left out. */
  async collect(): Promise<ProcessMetric[]> {
    const out: ProcessMetric[] = [];
    for (const metric of this.registry.getMetricsAsArray() as unknown as Array<{ get(): Promise<ProcessMetric> }>) {
      try {
        const json = await metric.get();
        out.push({
          name: json.name,
          help: json.help,
          type: json.type,
          aggregator: json.aggregator ?? 'sum',
          values: json.values.map((v) => ({ ...v, labels: { ...v.labels, ...this.defaultLabels } })),
        });
      } catch {
        // A read that failed (the control database is down, say): readiness names the cause.
      }
    }
    return out;
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
