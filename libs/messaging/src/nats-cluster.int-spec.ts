import { healthContract } from '@latchkey/contracts';
import { type PrivateNatsCluster, startNatsCluster, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import { MessageBus } from './message-bus';
import { startService, type ServiceHandle } from './service-host';

/**
 * Two replicas of a service and a caller on a three-node NATS cluster, each given one node as its
 * NATS_URL. The node of the first replica and of the caller is SIGKILLed: both move to the other
 * nodes (learnt from the cluster, not from their NATS_URL), the first replica's queue subscription
 * is made again there, and requests are answered by both replicas; the node comes back.
 */
describe('NATS connections on a cluster losing a node', () => {
  let nats: PrivateNatsCluster;
  let replicas: ServiceHandle[];
  let bus: MessageBus;

  beforeAll(async () => {
    nats = await startNatsCluster(3);
    const env = (node: number) => ({ NATS_URL: nats.nodes[node].url, LOG_LEVEL: 'silent', NATS_REQUEST_TIMEOUT_MS: 2000 });
    replicas = await Promise.all([0, 1].map((node) => startService({ service: 'access', version: '9.9.9', env: env(node), imports: [] })));
    bus = new MessageBus(nats.nodes[0].url, 'test', 2000);
    await bus.connect();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await bus?.close();
    await Promise.all((replicas ?? []).map((r) => r.close()));
    await nats?.stop();
  });

  const answeredBy = async (n: number) => {
    const answers = await Promise.all(
      Array.from({ length: n }, () =>
        bus.request(healthContract('access'), {}).then(
          (a) => a.instanceId,
          () => null,
        ),
      ),
    );
    return new Set(answers.filter((a): a is string => a !== null));
  };
  const everyReplica = (ids: Set<string>) => replicas.every((r) => ids.has(r.info.instanceId));

  it('keeps answering through the other nodes, with both replicas, and takes the node back', async () => {
    await waitUntil('both replicas answering', async () => everyReplica(await answeredBy(20)));

    await nats.nodes[0].kill();
    await waitUntil('both replicas answering with node 1 gone', async () => everyReplica(await answeredBy(20)), 60_000, 250);

    await nats.nodes[0].restart();
    await nats.nodes[2].kill();
    await waitUntil('both replicas answering with node 3 gone', async () => everyReplica(await answeredBy(20)), 60_000, 250);
    await nats.nodes[2].restart();
  });
});
