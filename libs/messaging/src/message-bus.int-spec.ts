import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { defineEvent, defineRequest } from '@latchkey/contracts';
import { type PrivateNats, startNatsServer, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
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

/** onEveryProcess: an event reaches every replica (no queue group), as NestJS publishes it; others are dropped. */
describe('an event handled in every process', () => {
  const changed = defineEvent('latchkey-test.changed', z.object({ id: z.string() }));
  let nats: PrivateNats;
  const buses: MessageBus[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    for (const name of ['publisher', 'replica-a', 'replica-b']) {
      const bus = new MessageBus(nats.url, name, 1000);
      await bus.connect();
      buses.push(bus);
    }
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await nats?.stop();
  });

  it('hands each published event to the handler of every replica, and drops what does not match the contract', async () => {
    const [publisher, a, b] = buses as [MessageBus, MessageBus, MessageBus];
    const seen: Record<string, string[]> = { a: [], b: [] };
    a.onEveryProcess(changed, (e) => seen.a!.push(e.id));
    b.onEveryProcess(changed, (e) => seen.b!.push(e.id));
    const raw = await connect({ servers: nats.url });
    try {
      await a.ping();
      await b.ping();
      raw.publish(changed.subject, JSON.stringify({ pattern: changed.subject, data: { id: 42 } }));
      raw.publish(changed.subject, 'not json');
      await raw.flush();
      await publisher.publish(changed, { id: 'one' });
      await publisher.publish(changed, { id: 'two' });
      await waitUntil('both replicas saw both events', async () => (seen.a!.length >= 2 && seen.b!.length >= 2 ? true : undefined));
      expect(seen).toEqual({ a: ['one', 'two'], b: ['one', 'two'] });
    } finally {
      await raw.close();
    }
  });
});
