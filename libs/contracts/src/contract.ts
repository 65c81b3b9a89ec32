import { z } from 'zod';

/**
 * A NATS request/reply subject with its schemas. Declared once, here; no subject string appears
 * anywhere else. Published subjects are never renamed: a changed payload gets a new subject.
 */
export interface RequestContract<Req extends z.ZodType, Res extends z.ZodType> {
  readonly kind: 'request';
  readonly subject: string;
  readonly request: Req;
  readonly response: Res;
}

export interface EventContract<Payload extends z.ZodType> {
  readonly kind: 'event';
  readonly subject: string;
  readonly payload: Payload;
}

export const defineRequest = <Req extends z.ZodType, Res extends z.ZodType>(subject: string, request: Req, response: Res): RequestContract<Req, Res> => ({
  kind: 'request',
  subject,
  request,
  response,
});

export const defineEvent = <Payload extends z.ZodType>(subject: string, payload: Payload): EventContract<Payload> => ({
  kind: 'event',
  subject,
  payload,
});

/** Placeholder in connector-scoped subjects; each connector process serves its own id. */
export const CONNECTOR_PLACEHOLDER = '{connectorId}';

export const CONNECTOR_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function subjectForConnector(contract: { subject: string }, connectorId: string): string {
  if (!contract.subject.includes(CONNECTOR_PLACEHOLDER)) {
    throw new Error(`subject ${contract.subject} is not connector-scoped`);
  }
  if (!CONNECTOR_ID_PATTERN.test(connectorId)) {
    throw new Error(`invalid connector id ${JSON.stringify(connectorId)}`);
  }
  return contract.subject.replace(CONNECTOR_PLACEHOLDER, connectorId);
}

export type RequestOf<C> = C extends RequestContract<infer Req, z.ZodType> ? z.input<Req> : never;
export type ResponseOf<C> = C extends RequestContract<z.ZodType, infer Res> ? z.output<Res> : never;
export type PayloadOf<C> = C extends EventContract<infer P> ? z.input<P> : never;
/** What a handler receives: the request after its schema parsed it (defaults applied). */
export type ReceivedOf<C> = C extends RequestContract<infer Req, z.ZodType> ? z.output<Req> : never;
