import { AggregatorRegistry } from 'prom-client';
import type { ProcessMetric, ProcessMetrics, ServiceName } from '@latchkey/contracts';
import { Metric } from '@latchkey/messaging';

/**
 * The whole system's metrics from every process's answer: what each process counted is added up
 * across replicas, what they all read from shared state (the control database, Redis) is taken
 * once (max), as each metric's declared aggregation says; `latchkey_service_replicas` says how
 * many processes of each service answered.
 */
export async function systemMetricsText(answers: ReadonlyMap<ServiceName, readonly ProcessMetrics[]>): Promise<{ contentType: string; text: string }> {
  const replicas: ProcessMetric = {
    name: Metric.serviceReplicas.name,
    help: Metric.serviceReplicas.help,
    type: 'gauge',
    aggregator: 'max',
    values: [...answers].map(([service, processes]) => ({ labels: { service }, value: processes.length })),
  };
  const registry = AggregatorRegistry.aggregate([[replicas], ...[...answers.values()].flatMap((processes) => processes.map((p) => p.metrics))] as never);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
