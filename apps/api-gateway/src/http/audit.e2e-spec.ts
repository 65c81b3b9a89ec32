import { Contracts, SYSTEM_ACTOR } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { startTestStack, STARTUP_TIMEOUT_MS, TestStack } from '@latchkey/testing';
import { AUDIT_CSV_COLUMNS } from './audit-csv';

/** The audit routes through the gateway; other services append over NATS as the catalog's outbox does. */
describe('audit log through the gateway', () => {
  let t: TestStack;
  let bus: MessageBus;

  beforeAll(async () => {
    t = await startTestStack({ services: ['api-gateway', 'access'] });
    bus = new MessageBus(t.natsUrl, 'e2e', 10_000);
    await bus.connect();
    await bus.request(Contracts.accessAuditAppend, {
      action: 'integration.updated',
      actor: { type: 'user', id: 'e2e-alice', email: 'alice@example.com' },
      targetType: 'e2e-integration',
      targetId: 'i-1',
      targetName: '=1+2, "quoted"\nnext line',
      diff: { password: { before: 'hunter2', after: 'hunter3' } },
      details: { token: 'lk_secret' },
      sourceId: 'e2e:1',
    });
    for (let i = 2; i <= 5; i++)
      await bus.request(Contracts.accessAuditAppend, {
        action: 'integration.tested',
        actor: SYSTEM_ACTOR,
        targetType: 'e2e-integration',
        targetId: `i-${i}`,
        sourceId: `e2e:${i}`,
      });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await bus?.close();
    await t?.dispose();
  });

  it('needs a token', async () => {
    expect((await t.api('GET', '/api/v1/audit', { token: null })).status).toBe(401);
    expect((await t.api('GET', '/api/v1/audit/verify', { token: null })).status).toBe(401);
  });

  it('lists entries newest first, filtered, secrets redacted', async () => {
    const res = await t.api('GET', '/api/v1/audit?targetType=e2e-integration&pageSize=2');
    expect(res.status).toBe(200);
    expect(res.body.items.map((e: { targetId: string }) => e.targetId)).toEqual(['i-5', 'i-4']);
    const rest = await t.api('GET', `/api/v1/audit?targetType=e2e-integration&pageSize=10&pageToken=${res.body.nextPageToken}`);
    expect(rest.body.items.map((e: { targetId: string }) => e.targetId)).toEqual(['i-3', 'i-2', 'i-1']);
    expect(rest.body.items[2]).toMatchObject({ diff: { password: { before: '[REDACTED]', after: '[REDACTED]' } }, details: { token: '[REDACTED]' } });
    expect(t.responses.join('\n')).not.toMatch(/hunter|lk_secret/);
  });

  it('exports CSV with a header row, quoted and defused cells', async () => {
    for (const [path, headers] of [
      ['/api/v1/audit?targetType=e2e-integration&format=csv', {}],
      ['/api/v1/audit?targetType=e2e-integration', { accept: 'text/csv' }],
    ] as const) {
      const res = await t.api('GET', path, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const lines = res.text.split('\r\n');
      expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
      expect(res.text).toContain(`,"'=1+2, ""quoted""\nnext line",`);
      expect(res.text).not.toMatch(/hunter|lk_secret/);
    }
  });

  it('answers a bad filter with a 400 naming the field, for CSV too', async () => {
    const res = await t.api('GET', '/api/v1/audit?from=yesterday&format=csv');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ field: 'from' }] } });
  });

  it('verifies the chain', async () => {
    const res = await t.api('GET', '/api/v1/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, firstBroken: null });
    expect(res.body.checked).toBeGreaterThanOrEqual(5);
  });
});
