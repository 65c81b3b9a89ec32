import type { ProcessMetrics, ServiceName } from '@latchkey/contracts';
import { Metric, ServiceMetrics } from '@latchkey/messaging';
import { systemMetricsText } from './system-metrics';

/** One process of a service, as its answer to `<service>.metrics.collect` reaches the gateway. */
async function processOf(service: ServiceName, work: (m: ServiceMetrics) => void): Promise<ProcessMetrics> {
  const metrics = new ServiceMetrics(service, service === 'provisioning' ? 'local' : undefined);
  work(metrics);
  return JSON.parse(JSON.stringify({ instanceId: `${service}-${Math.random()}`, metrics: await metrics.collect() }));
}

const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));

describe('systemMetricsText', () => {
  it('adds up what each replica counted, takes shared state once, and counts the replicas of each service', async () => {
    const replica = (revocations: number, active: number) =>
      processOf('provisioning', (m) => {
        m.counter(Metric.revocationAttempts).inc(revocations);
        m.histogram(Metric.revocationLatenessSeconds).observe(0.3);
        m.gauge(Metric.grantsActive, async () => [{ value: active }]);
      });
    const answers = new Map<ServiceName, ProcessMetrics[]>([
      ['provisioning', [await replica(3, 7), await replica(2, 7)]],
      ['access', [await processOf('access', (m) => m.counter(Metric.requestsCreated).inc({ approval: 'manual' }))]],
      ['rotation', []],
    ]);
    const { contentType, text } = await systemMetricsText(answers);
    expect(contentType).toContain('text/plain');
    expect(line(text, 'latchkey_revocation_attempts_total{')).toBe('latchkey_revocation_attempts_total{service="provisioning",connector="local"} 5');
    expect(line(text, 'latchkey_grants_active{')).toBe('latchkey_grants_active{service="provisioning",connector="local"} 7');
    expect(line(text, 'latchkey_revocation_lateness_seconds_count{')).toBe(
      'latchkey_revocation_lateness_seconds_count{service="provisioning",connector="local"} 2',
    );
    expect(line(text, 'latchkey_revocation_lateness_seconds_bucket{le="0.5"')).toBe(
      'latchkey_revocation_lateness_seconds_bucket{le="0.5",service="provisioning",connector="local"} 2',
    );
    expect(line(text, 'latchkey_access_requests_created_total{')).toBe('latchkey_access_requests_created_total{approval="manual",service="access"} 1');
    expect(line(text, 'latchkey_service_replicas{service="provisioning"}')).toBe('latchkey_service_replicas{service="provisioning"} 2');
    expect(line(text, 'latchkey_service_replicas{service="rotation"}')).toBe('latchkey_service_replicas{service="rotation"} 0');
    expect(text).toContain('# TYPE latchkey_revocation_lateness_seconds histogram');
    // Default metrics of each service stay apart by their service label.
    expect(text).toMatch(/latchkey_process_resident_memory_bytes\{service="access"\} \d+/);
  });
});
