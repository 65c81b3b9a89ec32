import { ServerNats } from '@nestjs/microservices';
import { LatchkeyNatsServer } from './nats-server';

class Ours extends LatchkeyNatsServer {
  route(pattern: string): string {
    return this.getRouteFromPattern(pattern);
  }
}

class Nest extends ServerNats {
  route(pattern: string): string {
    return this.getRouteFromPattern(pattern);
  }
}

describe('LatchkeyNatsServer routes', () => {
  // Never started: routing needs no connection.
  const ours = new Ours('nats://127.0.0.1:1', 'test');
  const nest = new Nest({ servers: ['nats://127.0.0.1:1'] });

  it.each([
    'access.requests.create',
    'connector.local.grants.create',
    'connector.0f3c2a.heartbeat',
    'a',
    '{"cmd":"sum"}',
    '{"role":"x","cmd":"y"}',
    '{not json',
  ])('routes %s as NestJS does', (subject) => {
    expect(ours.route(subject)).toBe(nest.route(subject));
  });

  it('routes a plain subject without trying it as JSON', () => {
    const parse = JSON.parse;
    let calls = 0;
    JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
      calls += 1;
      return parse(text, reviver);
    }) as typeof JSON.parse;
    try {
      expect(ours.route('access.requests.create')).toBe('access.requests.create');
      expect(calls).toBe(0);
      expect(ours.route('{"cmd":"sum"}')).toBe('{"cmd":"sum"}');
      expect(calls).toBe(1);
    } finally {
      JSON.parse = parse;
    }
  });
});
