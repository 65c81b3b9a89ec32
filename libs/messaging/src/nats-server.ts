import { ServerNats } from '@nestjs/microservices';
import { CONNECTOR_PLACEHOLDER, subjectForConnector } from '@latchkey/contracts';
import { CORRELATION_HEADER, withCorrelation } from './correlation';
import { natsConnectionOptions } from './nats-connection';

/**
 * NestJS's NATS server, with four additions: every subscription joins the queue group named after
 * the service (replicas share work); `{connectorId}` in a pattern becomes this process's connector
 * id, so a connector serves only its own integrations; and each message is handled inside the
 * correlation id its sender put in the headers (an interceptor would be too late: NestJS binds the
 * handler's async context before interceptors run); and a subject is its own route (see
 * getRouteFromPattern).
 */
export class LatchkeyNatsServer extends ServerNats {
  constructor(
    natsUrl: string,
    queue: string,
    private readonly connectorId?: string,
  ) {
    super({ ...natsConnectionOptions(natsUrl, queue), queue, gracefulShutdown: true, gracePeriod: 200 });
  }

  override bindEvents(client: Parameters<ServerNats['bindEvents']>[0]): void {
    for (const [pattern, handler] of [...this.messageHandlers.entries()]) {
      if (!pattern.includes(CONNECTOR_PLACEHOLDER)) continue;
      if (!this.connectorId) throw new Error(`${pattern} is connector-scoped but this service has no connector id`);
      this.messageHandlers.delete(pattern);
      this.messageHandlers.set(subjectForConnector({ subject: pattern }, this.connectorId), handler);
    }
    super.bindEvents(client);
  }

  /**
   * The route of a message's subject. NestJS first tries the subject as JSON (for object patterns,
   * which Latchkey never uses), so each plain subject threw and caught a SyntaxError: 1-2% of a
   * service's busy time under load. Only what can be a JSON object still goes that way.
   */
  protected override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

  override handleMessage(...args: Parameters<ServerNats['handleMessage']>): ReturnType<ServerNats['handleMessage']> {
    const [, message] = args;
    return withCorrelation(message.headers?.get(CORRELATION_HEADER), () => super.handleMessage(...args));
  }
}
