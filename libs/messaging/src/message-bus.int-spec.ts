import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { defineRequest } from '@latchkey/contracts';
import { type PrivateNats, startNatsServer, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { MessageBus } from './message-bus';

/** What a caller reads when a request gets no answer, from a real NATS server (the mapper tells the cases apart by error class). */
describe('a request nobody answers', () => {
  const ping = defineRequest('latchkey-test.ping', z.object({}), z.object({}));
  const connectorPing = defineRequest('latchkey-test.{connectorId}.ping', z.object({}), z.object({}));
  let nats: PrivateNats;
  let bus: MessageBus;

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = new MessageBus(nats.url, 'test', 1000);
    await bus.connect();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it('says no service serves the subject, or which connector does not', async () => {
    await expect(bus.request(ping, {})).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'No service is serving latchkey-test.ping: is it running?',
    });
    await expect(bus.request(connectorPing, {}, { connectorId: 'east' })).rejects.toMatchObject({
      code: 'CONNECTOR_UNAVAILABLE',
      message: 'Connector "east" is not serving latchkey-test.{connectorId}.ping: is it running?',
    });
  });

  it('says nobody answered in time when a subscriber stays silent', async () => {
    const silent = await connect({ servers: nats.url });
    try {
      silent.subscribe(ping.subject, { callback: () => undefined });
      await silent.flush();
      await expect(bus.request(ping, {}, { timeoutMs: 200 })).rejects.toMatchObject({
        code: 'TIMEOUT',
        message: 'No answer on latchkey-test.ping within 200 ms.',
      });
    } finally {
      await silent.close();
    }
  });
});
