import { headers as natsHeaders } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { z } from 'zod';
import { AppException, CONNECTOR_PLACEHOLDER, ErrorCode, EventContract, issuesFromZod, RequestContract, subjectForConnector } from '@latchkey/contracts';
import { CORRELATION_HEADER, currentCorrelationId } from './correlation';
import { toAppException } from './error-mapper';
import { Metric } from './metric-catalogue';
import type { ServiceMetrics } from './service-metrics';

/** NestJS's NATS client, with its connection reachable for what NestJS does not do (scatter-gather, plain subscriptions). */
class LatchkeyClientNats extends ClientNats {
  get connection(): NatsConnection | null {
    return this.natsClient as NatsConnection | null;
  }
}

type RequestOutcome = 'ok' | 'error' | 'timeout' | 'unavailable';
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
  private readonly client: LatchkeyClientNats;
  private latency?: ReturnType<ServiceMetrics['histogram']>;

  constructor(
    natsUrl: string,
    clientName: string,
    private readonly defaultTimeoutMs: number,
  ) {
    this.client = new LatchkeyClientNats(natsConnectionOptions(natsUrl, clientName));
  }

  connect(): Promise<unknown> {
    return this.client.connect();
  }

  close(): Promise<unknown> {
    return this.client.close();
  }

  /** Times every request into latchkey_nats_request_duration_seconds (per subject template, so connector ids do not multiply series). */
  observeWith(metrics: ServiceMetrics): void {
    this.latency = metrics.histogram(Metric.natsRequestSeconds);
  }

  /** A round trip to the NATS server (readiness): fails while disconnected. */
  async ping(): Promise<void> {
    const nc = this.client.connection;
    if (!nc || nc.isClosed()) throw new Error('NATS connection is closed');
    await nc.flush();
  }

  /**
   * Asks every process serving `contract` (a subject served without queue group) and gathers the
   * answers that arrive until none came for `stallMs` after the last one, or `maxWaitMs` in all.
   * Answers that do not match the contract are dropped.
   */
  async gather<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options: { maxWaitMs: number; stallMs: number },
  ): Promise<Array<z.output<Res>>> {
    const nc = this.client.connection;
    if (!nc) throw new AppException(ErrorCode.ServiceUnavailable, 'Not connected to NATS.');
    const data = this.check(contract.request, payload, `request on ${contract.subject}`);
    const answers: Array<z.output<Res>> = [];
    try {
      const replies = await nc.requestMany(contract.subject, JSON.stringify(data), { strategy: 'stall', stall: options.stallMs, maxWait: options.maxWaitMs });
      for await (const msg of replies) {
        const parsed = contract.response.safeParse(msg.json());
        if (parsed.success) answers.push(parsed.data);
      }
    } catch {
      // No responders, or the connection went: whatever arrived is the answer.
    }
    return answers;
  }

  /**
   * Hands every event of `contract` to `handler` in EVERY process (no queue group), outside
   * NestJS's handlers, which all join the service's queue group: for what each replica keeps for
   * itself, such as a cache. Events that do not match the contract are dropped.
   */
  onEveryProcess<P extends z.ZodType>(contract: EventContract<P>, handler: (event: z.output<P>) => void): void {
    const nc = this.client.connection;
    if (!nc) throw new Error('onEveryProcess before connect');
    nc.subscribe(contract.subject, {
      callback: (err, msg) => {
        if (err) return;
        let packet: { data?: unknown };
        try {
          packet = msg.json();
        } catch {
          return;
        }
        // NestJS sends an event as { pattern, data }.
        const parsed = contract.payload.safeParse(packet?.data);
        if (parsed.success) handler(parsed.data);
      },
    });
  }

  /**
   * Serves `contract` in EVERY process (no queue group: each replica answers), outside NestJS's
   * handlers, which all join the service's queue group. The request is validated; the handler's
   * answer is sent as JSON.
   */
  serveEveryProcess<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    handler: (request: z.output<Req>) => Promise<z.input<Res>>,
  ): void {
    const nc = this.client.connection;
    if (!nc) throw new Error('serveEveryProcess before connect');
    nc.subscribe(contract.subject, {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        let body: unknown = {};
        try {
          body = msg.data.length ? msg.json() : {};
        } catch {
          return;
        }
        const parsed = contract.request.safeParse(body);
        if (!parsed.success) return;
        handler(parsed.data).then(
          (answer) => msg.respond(JSON.stringify(answer)),
          () => undefined,
        );
      },
    });
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
    const stopTimer = this.latency?.startTimer({ subject: contract.subject });
    try {
      answer = await firstValueFrom(this.client.send(subject, this.record(data)).pipe(timeout(timeoutMs)));
    } catch (err) {
      const failure = toAppException(err, { request: { subject: contract.subject, connectorId: options.connectorId, timeoutMs } });
      stopTimer?.({ outcome: outcomeOf(failure) });
      throw failure;
    }
    stopTimer?.({ outcome: 'ok' });
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
}

function outcomeOf(err: AppException): RequestOutcome {
  if (err.code === ErrorCode.Timeout) return 'timeout';
  if (err.code === ErrorCode.ServiceUnavailable || err.code === ErrorCode.ConnectorUnavailable) return 'unavailable';
  return 'error';
}
