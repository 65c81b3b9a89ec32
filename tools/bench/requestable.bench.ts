import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { createUser, type TestStack } from '@latchkey/testing';
import { ms, percentile } from './stats';

const FLOWS = 100;
const SAMPLES = Number(process.env.BENCH_REQUESTABLE_SAMPLES ?? 200);
const TARGET_P95_MS = 50;

/**
 * "What may I request" over an inventory of 50,000 tables with 100 active flows that all offer
 * something to the caller (each a path glob on its own schema, half of them excluding a tag), as
 * the portal asks it: the first page, a search, and a page deep in the list. Beside it, the raw
 * SQL that reads the same page from the control database.
 */
export async function benchRequestable(stack: TestStack, integrationId: string, schemas: number): Promise<Record<string, string>> {
  for (let i = 0; i < FLOWS; i += 1) {
    const schema = `s${(i % schemas) + 1}`;
    const res = await stack.api('POST', '/api/v1/access-flows', {
      body: {
        name: `bench requestable ${i}`,
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['requesters'] }] },
        targets: [
          {
            integrationId,
            resourceType: 'postgresql-table',
            permissions: ['READ_ONLY'],
            resources: i % 2 ? { mode: 'exclude', by: 'tag', key: 'pii', values: ['*'] } : { mode: 'include', by: 'name', values: [`bench/${schema}/*`] },
          },
        ],
        approvers: null,
        maxDurationMinutes: 60,
        settings: { justificationRequired: false },
      },
    });
    if (res.status !== 201) throw new Error(`bench flow ${i}: ${res.text}`);
  }
  const { token, user } = await createUser(stack, { groups: ['requesters'] });
  // Timed as a client reads the page (the answer read and parsed), with fetch itself: the test stack's
  // api() also keeps every answer for the tests' leak checks, 200 x 743 KB here, which the client's GC
  // then carries through the rest of the samples.
  const time = async (path: string) => {
    const latency: number[] = [];
    let items = 0;
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = performance.now();
      const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { items: unknown[] };
      latency.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      items = body.items.length;
    }
    return { p50: percentile(latency, 50), p95: percentile(latency, 95), items };
  };
  let deepToken = '';
  for (let page = 0; page < 10; page += 1) {
    const res = await stack.api('GET', `/api/v1/me/requestable?pageSize=50${deepToken ? `&pageToken=${deepToken}` : ''}`, { token });
    deepToken = encodeURIComponent(res.body.nextPageToken);
  }
  const first = await time('/api/v1/me/requestable?pageSize=50');
  const search = await time('/api/v1/me/requestable?pageSize=50&q=t99');
  const deep = await time(`/api/v1/me/requestable?pageSize=50&pageToken=${deepToken}`);

  // Where the time goes: the same first page asked of the access service over NATS (access and discovery,
  // each flow written once), without the gateway's HTTP, its written-out answer and the client's parse of it.
  const bus = new MessageBus(stack.natsUrl, 'bench-requestable', 120_000);
  await bus.connect();
  const serviceLatency: number[] = [];
  let bytes = 0;
  try {
    const caller = { userId: user.id, email: user.email, role: user.role, groups: ['requesters'], attributes: {} };
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = performance.now();
      await bus.request(Contracts.accessMeRequestablePage, { caller, query: { pageSize: 50 } });
      serviceLatency.push(performance.now() - t0);
    }
    bytes = Buffer.byteLength((await stack.api('GET', '/api/v1/me/requestable?pageSize=50', { token })).text);
  } finally {
    await bus.close();
  }

  const rawLatency: number[] = [];
  const patterns = Array.from({ length: schemas }, (_, i) => `bench/s${i + 1}/%`);
  for (let i = 0; i < SAMPLES; i += 1) {
    const t0 = performance.now();
    await stack.control(
      `SELECT r.*, a.tags FROM discovery.resources r LEFT JOIN discovery.api_tags a ON a.resource_id = r.id
        WHERE r.integration_id = $1 AND r.type = 'postgresql-table' AND NOT r.managed AND r.path LIKE ANY($2::text[])
        ORDER BY r.path, r.id LIMIT 50`,
      [integrationId, patterns],
    );
    rawLatency.push(performance.now() - t0);
  }
  const row = (r: { p50: number; p95: number; items: number }) => `p50 ${ms(r.p50)}, p95 ${ms(r.p95)} (${r.items} items)`;
  const worst = Math.max(first.p95, search.p95, deep.p95);
  return {
    'what may I request: flows, samples': `${FLOWS} active flows offering to the caller, ${SAMPLES} calls each`,
    'what may I request: first page of 50': row(first),
    'what may I request: search q=t99': row(search),
    'what may I request: 11th page': row(deep),
    'what may I request: first page, access service over NATS': `p50 ${ms(percentile(serviceLatency, 50))}, p95 ${ms(percentile(serviceLatency, 95))} (the API's answer: ${(bytes / 1024).toFixed(0)} KB, every offering flow written out on every row)`,
    'raw SQL: the same page from the control database': `p50 ${ms(percentile(rawLatency, 50))}, p95 ${ms(percentile(rawLatency, 95))}`,
    'target (p95, with 50,000 resources and 100 flows)': `under ${TARGET_P95_MS} ms: ${worst < TARGET_P95_MS ? 'met' : 'MISSED'} (worst p95 ${ms(worst)})`,
  };
}
