import { randomBytes } from 'node:crypto';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Contracts } from '@latchkey/contracts';
import { createUser, waitUntil } from '@latchkey/testing';
import { POSTGRES_DEFAULT_ITERATIONS, rawLatencies, startBenchTarget } from './bench-target';
import { benchClient } from './http-client';
import { cpuLine, cpuSnapshot, ms, percentile, pool } from './stats';

const SAMPLES = Number(process.env.BENCH_REQUEST_SAMPLES ?? 200);
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_REQUEST_THROUGHPUT ?? 400);
const APPROVAL_SAMPLES = Number(process.env.BENCH_APPROVAL_SAMPLES ?? 100);
const CONCURRENCY = 16;

/**
 * Request to usable credentials, as a person lives it, through the gateway to an auto-approving
 * flow: one call that waits for the grant and brings the password (`waitSeconds`,
 * `revealCredentials`, as the CLI's connect asks), and the three calls of a client that does not
 * wait (the request, its GRANTED event from the access service, the access details); beside the
 * raw SQL that makes the same login; and the stack's floor, the lightest authenticated call
 * (`GET /api/v1/me`), which no request through the gateway can beat.
 */
export async function benchAccess(): Promise<Array<[string, string]>> {
  const rows: Array<[string, string]> = [];
  const target = await startBenchTarget({ ACCESS_SWEEP_INTERVAL_SECONDS: '30', SWEEP_INTERVAL_SECONDS: '30' });
  try {
    const { pg, stack: t, integrationId } = target;
    const resourceId = await waitUntil('the bench table discovered', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&q=app/orders`);
      return list.body.items?.[0]?.id as string | undefined;
    });
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'bench automatic',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['bench'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 60,
        settings: { justificationRequired: false },
      },
    });
    if (flow.status !== 201) throw new Error(`bench flow: ${flow.text}`);
    // The approval path: other requesters (one flow per request), one approver.
    const approver = await createUser(t, { email: `bench-approver-${randomBytes(3).toString('hex')}@bench.test` });
    const approvalFlow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'bench approval',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['bench-approval'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: { mode: 'ANY_OF', groups: [{ type: 'user', values: [approver.user.email] }] },
        maxDurationMinutes: 60,
        settings: { justificationRequired: false },
      },
    });
    if (approvalFlow.status !== 201) throw new Error(`bench approval flow: ${approvalFlow.text}`);
    const askers = await pool(
      Array.from({ length: 4 }, (_, i) => i),
      4,
      (i) => createUser(t, { email: `bench-ask${i}-${randomBytes(3).toString('hex')}@bench.test`, groups: ['bench-approval'] }),
    );
    const people = await pool(
      Array.from({ length: CONCURRENCY }, (_, i) => i),
      4,
      (i) => createUser(t, { email: `bench${i}-${randomBytes(3).toString('hex')}@bench.test`, groups: ['bench'] }),
    );

    // Requests turn GRANTED: the event may come before the POST's answer does.
    const nc = await natsConnect({ servers: t.natsUrl });
    const granted = new Set<string>();
    const waiters = new Map<string, () => void>();
    const sub = nc.subscribe(Contracts.accessRequestChanged.subject);
    void (async () => {
      for await (const m of sub) {
        const body = JSON.parse(new TextDecoder().decode(m.data));
        const event = (body.data ?? body) as { id: string; status: string };
        if (event.status !== 'GRANTED') continue;
        granted.add(event.id);
        waiters.get(event.id)?.();
      }
    })();
    const grantedEvent = (id: string) => (granted.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(id, resolve)));

    // Timed calls keep no answers (the test stack's api() holds every answer for leak checks, and
    // the client's garbage collection of thousands of them would be part of the figures), and go
    // through a lighter client than its fetch.
    const api = benchClient(t.url, CONCURRENCY);
    /** Where the time of each request went: the POST, the wait until GRANTED, the access details. */
    const phases: Array<[number, number, number]> = [];
    /** One request, from POST to the password in hand, in one call. */
    const requestAccess = async (token: string) => {
      const answer = await api('POST', '/api/v1/access-requests', {
        token,
        body: { items: [{ resourceId, permission: 'READ_ONLY' }], durationMinutes: 60, waitSeconds: 10, revealCredentials: true },
      });
      if (answer.status !== 201) throw new Error(`request: ${answer.text}`);
      if (!answer.body.accessDetails?.[0]?.password) throw new Error(`no password in the answer: ${answer.text}`);
    };
    /** One request, from POST to the password in hand, in three calls. */
    const requestAccessThreeCalls = async (token: string) => {
      const start = performance.now();
      const answer = await api('POST', '/api/v1/access-requests', { token, body: { items: [{ resourceId, permission: 'READ_ONLY' }], durationMinutes: 60 } });
      if (answer.status !== 201) throw new Error(`request: ${answer.text}`);
      const id = answer.body.requests[0].id;
      const posted = performance.now();
      await grantedEvent(id);
      waiters.delete(id);
      const grantedAt = performance.now();
      const details = await api('GET', `/api/v1/access-requests/${id}/access-details`, { token });
      if (!details.body.password) throw new Error(`no password for ${id}`);
      phases.push([posted - start, grantedAt - posted, performance.now() - grantedAt]);
    };

    await requestAccess(people[0].token);
    await requestAccessThreeCalls(people[0].token);
    const [{ profile }] = await pg.query<{ profile: string }>("SELECT rolname AS profile FROM pg_roles WHERE rolname LIKE 'lk\\_p\\_%' LIMIT 1");
    const raw = await target.connect();

    phases.length = 0;
    const latency: number[] = [];
    const threeCalls: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = performance.now();
      await requestAccess(people[i % people.length].token);
      const t1 = performance.now();
      await requestAccessThreeCalls(people[i % people.length].token);
      latency.push(t1 - t0);
      threeCalls.push(performance.now() - t1);
    }
    // The stack's floor: the lightest authenticated call, through the gateway and one NATS round
    // trip to the access service, which reads one row (the caller) and writes nothing.
    const floor: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = performance.now();
      const me = await api('GET', '/api/v1/me', { token: people[i % people.length].token });
      if (me.status !== 200) throw new Error(`me: ${me.text}`);
      floor.push(performance.now() - t0);
    }
    const rawLatency = await rawLatencies(raw, 'raw_req', profile, SAMPLES);
    const rawDefault = await rawLatencies(raw, 'raw_req4096_', profile, SAMPLES, POSTGRES_DEFAULT_ITERATIONS);
    rows.push([
      `request to credentials p50 (n=${SAMPLES}, automatic flow, one call)`,
      `${ms(percentile(latency, 50))}   raw SQL ${ms(percentile(rawLatency, 50))}   ratio ${(percentile(latency, 50) / percentile(rawLatency, 50)).toFixed(2)}x (target <= 2x)`,
    ]);
    rows.push([
      'request to credentials p99 (one call)',
      `${ms(percentile(latency, 99))}   raw SQL ${ms(percentile(rawLatency, 99))}   ratio ${(percentile(latency, 99) / percentile(rawLatency, 99)).toFixed(2)}x (target <= 3x)`,
    ]);
    rows.push([
      `  raw SQL with a verifier of PostgreSQL's ${POSTGRES_DEFAULT_ITERATIONS} iterations, p50 / p99`,
      `${ms(percentile(rawDefault, 50))} / ${ms(percentile(rawDefault, 99))}   ratio ${(percentile(latency, 50) / percentile(rawDefault, 50)).toFixed(2)}x / ${(percentile(latency, 99) / percentile(rawDefault, 99)).toFixed(2)}x`,
    ]);
    rows.push([
      "  the stack's floor, GET /api/v1/me p50 / p99 (one NATS round trip, one read)",
      `${ms(percentile(floor, 50))} / ${ms(percentile(floor, 99))}   ratio to the raw SQL grant ${(percentile(floor, 50) / percentile(rawLatency, 50)).toFixed(2)}x / ${(percentile(floor, 99) / percentile(rawLatency, 99)).toFixed(2)}x`,
    ]);
    rows.push([
      'request to credentials p50 / p99 (three calls)',
      `${ms(percentile(threeCalls, 50))} / ${ms(percentile(threeCalls, 99))}   ratio ${(percentile(threeCalls, 50) / percentile(rawLatency, 50)).toFixed(2)}x / ${(percentile(threeCalls, 99) / percentile(rawLatency, 99)).toFixed(2)}x`,
    ]);
    const phase = (k: number) =>
      ms(
        percentile(
          phases.map((p) => p[k]),
          50,
        ),
      );
    rows.push([
      '  where the three calls go (p50)',
      `POST (match, resolve, store, audit, enqueue) ${phase(0)}; APPROVED -> GRANTED (grant, provisioning) ${phase(1)}; access details ${phase(2)}`,
    ]);

    // Throughput, twice back to back. The first window starts cold: after the one-at-a-time samples
    // the pools hold a session or two (idle ones close after 10 s), so it opens the rest, plans
    // their statements and runs code the services have not optimized yet at this concurrency. The
    // second is the steady state a service under load lives in, the figure against the target.
    for (const window of ['cold', 'warm'] as const) {
      const t0 = performance.now();
      const cpuBefore = cpuSnapshot();
      const statements = await target.controlStatements?.since();
      await pool(Array.from({ length: THROUGHPUT_REQUESTS }), CONCURRENCY, (_item, _i, worker) => requestAccess(people[worker].token));
      const rate = THROUGHPUT_REQUESTS / ((performance.now() - t0) / 1000);
      const cpu = cpuLine(cpuBefore, cpuSnapshot());
      rows.push([
        `requests to credentials per second (${THROUGHPUT_REQUESTS}, ${CONCURRENCY} people at a time, one call, ${window})`,
        `${rate.toFixed(0)}/s${window === 'warm' ? ' (target 200/s)' : ''}`,
      ]);
      rows.push([`CPU of those ${THROUGHPUT_REQUESTS} requests (${window})`, cpu]);
      const statementsLine = await statements?.();
      if (statementsLine) rows.push([`control database statements of those requests (${window})`, statementsLine]);
    }

    // Approve -> GRANTED: from the approver's POST .../approve to the GRANTED event, one at a time.
    const approval: number[] = [];
    for (let i = 0; i < APPROVAL_SAMPLES; i += 1) {
      const asked = await api('POST', '/api/v1/access-requests', {
        token: askers[i % askers.length].token,
        body: { items: [{ resourceId, permission: 'READ_ONLY' }], durationMinutes: 60 },
      });
      if (asked.status !== 201 || asked.body.requests[0].status !== 'PENDING') throw new Error(`approval request: ${asked.text}`);
      const id = asked.body.requests[0].id;
      const t1 = performance.now();
      const approved = await api('POST', `/api/v1/access-requests/${id}/approve`, { token: approver.token, body: { reason: 'bench' } });
      if (approved.status !== 200) throw new Error(`approve: ${approved.text}`);
      await grantedEvent(id);
      waiters.delete(id);
      approval.push(performance.now() - t1);
    }
    rows.push([
      `approve -> GRANTED p50 / p99 (n=${APPROVAL_SAMPLES})`,
      `${ms(percentile(approval, 50))} / ${ms(percentile(approval, 99))}   raw SQL grant ${ms(percentile(rawLatency, 50))} / ${ms(percentile(rawLatency, 99))}`,
    ]);
    await raw.end();
    await nc.close();
    api.close();
    return rows;
  } finally {
    await target.dispose();
  }
}
