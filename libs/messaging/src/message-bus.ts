import { headers as natsHeaders } from '@nats-io/transport-node';
import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { z } from 'zod';
import {
  CONNECTOR_PLACEHOLDER,
  ErrorCode,
  ErrorEnvelope,
  EventContract,
  issuesFromZod,
  RequestContract,
  subjectForConnector,
} from '@latchkey/contracts';
import { AppException } from './app.exception';
import { CORRELATION_HEADER, currentCorrelationId } from './correlation';
import { natsConnectionOptions } from './nats-connection';

export interface RequestOptions {
  /** Required for connector-scoped subjects: whose connector serves the request. */
  connectorId?: string;
  timeoutMs?: number;
}

/**
 * Typed NATS requests and events: payloads are validated before sending and answers before use,
 * requests time out, and the correlation id of the current context travels in the headers.
 */
export class MessageBus {
  private readonly client: ClientNats;

  constructor(
    natsUrl: string,
    clientName: string,
    private readonly defaultTimeoutMs: number,
  ) {
    this.client = new ClientNats(natsConnectionOptions(natsUrl, clientName));
  }

  connect(): Promise<unknown> {
    return this.client.connect();
  }

  close(): Promise<unknown> {
    return this.client.close();
  }

  async request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options: RequestOptions = {},
  ): Promise<z.output<Res>> {
    const subject = this.subjectOf(contract, options.connectorId);
    const data = this.check(contract.request, payload, `request on ${contract.subject}`);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    let answer: unknown;
    try {
      answer = await firstValueFrom(this.client.send(subject, this.record(data)).pipe(timeout(timeoutMs)));
    } catch (err) {
      throw this.toAppException(err, contract.subject, options.connectorId, timeoutMs);
    }
    return this.check(contract.response, answer, `answer on ${contract.subject}`);
  }

  async publish<P extends z.ZodType>(contract: EventContract<P>, payload: z.input<P>): Promise<void> {
    const data = this.check(contract.payload, payload, `event ${contract.subject}`);
    await firstValueFrom(this.client.emit(contract.subject, this.record(data)), { defaultValue: undefined });
  }

  private subjectOf(contract: { subject: string }, connectorId?: string): string {
    if (!contract.subject.includes(CONNECTOR_PLACEHOLDER)) return contract.subject;
    if (!connectorId) throw new Error(`${contract.subject} needs a connectorId`);
    return subjectForConnector(contract, connectorId);
  }

  private record(data: unknown) {
    const h = natsHeaders();
    const correlationId = currentCorrelationId();
    if (correlationId) h.set(CORRELATION_HEADER, correlationId);
    return new NatsRecordBuilder(data).setHeaders(h).build();
  }

  private check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error), `Invalid ${what}.`);
    return parsed.data;
  }

  private toAppException(err: unknown, subject: string, connectorId: string | undefined, timeoutMs: number): AppException {
    if (err instanceof AppException) return err;
    const envelope = ErrorEnvelope.safeParse(err);
    if (envelope.success) return AppException.fromEnvelope(envelope.data);
    if (err instanceof TimeoutError) {
      return new AppException(ErrorCode.Timeout, `No answer on ${subject} within ${timeoutMs} ms.`);
    }
    const message = err instanceof Error ? err.message : String(err);
    if (/no subscribers|no responders|503/i.test(message)) {
      return connectorId
        ? new AppException(ErrorCode.ConnectorUnavailable, `Connector "${connectorId}" is not serving ${subject}: is it running?`)
        : new AppException(ErrorCode.ServiceUnavailable, `No service is serving ${subject}: is it running?`);
    }
    return new AppException(ErrorCode.ServiceUnavailable, `Messaging failed on ${subject}: ${message}`);
  }
}
