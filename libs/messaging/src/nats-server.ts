import { ServerNats } from '@nestjs/microservices';
import { CONNECTOR_PLACEHOLDER, subjectForConnector } from '@latchkey/contracts';

/**
 * NestJS's NATS server, with two additions: every subscription joins the queue group named after
 * the service (replicas share work), and `{connectorId}` in a pattern becomes this process's
 * connector id, so a connector serves only its own integrations.
 */
export class LatchkeyNatsServer extends ServerNats {
  constructor(natsUrl: string, queue: string, private readonly connectorId?: string) {
    super({ servers: natsUrl, queue, name: queue, gracefulShutdown: true, gracePeriod: 200, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
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
}
