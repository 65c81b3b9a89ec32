import { z } from 'zod';

/**
 * One process's metrics as prom-client's `registry.getMetricsAsJSON()` gives them: the gateway
 * adds up the answers of every replica (prom-client's AggregatorRegistry) into `GET /metrics`.
 */
const LabelValue = z.union([z.string(), z.number()]);
export const MetricSample = z.object({
  value: z.number(),
  labels: z.record(z.string(), LabelValue),
  metricName: z.string().optional(),
});
export const ProcessMetric = z.object({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a Prometheus metric name'),
  help: z.string(),
  type: z.enum(['counter', 'gauge', 'histogram', 'summary']),
  aggregator: z.enum(['sum', 'first', 'min', 'max', 'average', 'omit']),
  values: z.array(MetricSample),
});
export type ProcessMetric = z.infer<typeof ProcessMetric>;
export const ProcessMetrics = z.object({ instanceId: z.string(), metrics: z.array(ProcessMetric) });
export type ProcessMetrics = z.infer<typeof ProcessMetrics>;
