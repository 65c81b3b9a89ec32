import { healthContract } from '@latchkey/contracts';
import { type PrivateNats, startNatsServer, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { MessageBus } from './message-bus';
import { startService, type ServiceHandle } from './service-host';

describe('service host on NATS', () => {
  let nats: PrivateNats;
  let replicas: ServiceHandle[];
  let bus: MessageBus;

  beforeAll(async () => {
    nats = await startNatsServer();
    const env = { NATS_URL: nats.url, LOG_LEVEL: 'silent', NATS_REQUEST_TIMEOUT_MS: 2000 };
    replicas = await Promise.all([1, 2].map(() => startService({ service: 'access', version: '9.9.9', env, imports: [] })));
    bus = new MessageBus(nats.url, 'test', 2000);
    await bus.connect();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await bus?.close();
    await Promise.all((replicas ?? []).map((r) => r.close()));
    await nats?.stop();
  });

  it('answers its health subject, each request once, shared by the replicas of its queue group', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => bus.request(healthContract('access'), {})));
    expect(answers.every((a) => a.service === 'access' && a.version === '9.9.9')).toBe(true);
    expect(new Set(answers.map((a) => a.instanceId))).toEqual(new Set(replicas.map((r) => r.info.instanceId)));
  });

  it('says which service is missing when none answers', async () => {
    await expect(bus.request(healthContract('rotation'), {})).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringContaining('rotation.health.check'),
    });
  });
});
