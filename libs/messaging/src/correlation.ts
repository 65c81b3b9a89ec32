import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export const CORRELATION_HEADER = 'x-correlation-id';
const storage = new AsyncLocalStorage<{ correlationId: string }>();
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Runs `fn` with a correlation id that logs and outgoing NATS messages carry. */
export function withCorrelation<T>(correlationId: string | undefined | null, fn: () => T): T {
  const id = correlationId && VALID_ID.test(correlationId) ? correlationId : randomUUID();
  return storage.run({ correlationId: id }, fn);
}

export const currentCorrelationId = (): string | undefined => storage.getStore()?.correlationId;
