import { PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

/**
 * The control database goes away under a running stack (its own private server, stopped like an
 * outage): every answer that needs it is a 503 a client can tell and retry, never a 500, and the
 * stack serves again once the server is back.
 */
describe('gateway: the control database unreachable', () => {
  let control: PgCluster;
  let t: TestStack;
  let freshToken: string;

  const expectRetryable503 = (res: { status: number; body: any; headers: Headers }) => {
    expect({ status: res.status, code: res.body.code, reason: res.body.details?.reason }).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      reason: 'CONTROL_DATABASE_UNAVAILABLE',
    });
    expect(res.headers.get('retry-after')).toBe('5');
  };

  beforeAll(async () => {
    control = await startPgCluster({ hba: 'trust' });
    t = await startTestStack({
      services: ['api-gateway', 'access', 'integration-catalog'],
      controlServerUrl: `postgres://${control.superuser}@127.0.0.1:${control.port}/postgres`,
      // The admin's token stays known to the gateway, so its calls reach the services' own databases.
      env: { AUTH_CACHE_SECONDS: '300' },
    });
    const user = await t.api('POST', '/api/v1/users', { body: { email: 'fresh@example.com', name: 'fresh', groups: [], role: 'user' } });
    freshToken = (await t.api('POST', '/api/v1/tokens', { body: { userId: user.body.id, name: 'not used yet' } })).body.token;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await control?.stop();
  });

  it('answers 503 with Retry-After and reason CONTROL_DATABASE_UNAVAILABLE while it is down, and serves again once it is back', async () => {
    expect((await t.api('GET', '/api/v1/integrations')).status).toBe(200);
    expect((await t.api('GET', '/api/v1/access-requests')).status).toBe(200);
    await control.halt();
    try {
      // The catalog's and the access service's own queries.
      expectRetryable503(await t.api('GET', '/api/v1/integrations'));
      expectRetryable503(await t.api('GET', '/api/v1/access-requests'));
      expectRetryable503(await t.api('GET', '/api/v1/users'));
      // A token the gateway has not seen: authenticating it needs the access service's database.
      expectRetryable503(await t.api('GET', '/api/v1/me', { token: freshToken }));
    } finally {
      await control.resume();
    }
    await waitUntil('the catalog serves again', async () => (await t.api('GET', '/api/v1/integrations')).status === 200, 60_000);
    await waitUntil('the access service serves again', async () => (await t.api('GET', '/api/v1/me', { token: freshToken })).status === 200, 60_000);
    // No service died on the way.
    for (const service of ['api-gateway', 'access', 'integration-catalog']) expect(t.stack.isRunning(service)).toBe(true);
  });
});
