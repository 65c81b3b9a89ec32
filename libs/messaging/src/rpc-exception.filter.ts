import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import type { ExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { AppException, ErrorCode, ErrorEnvelope } from '@latchkey/contracts';
import { classifyDatabaseError } from './database-error';
import type { AppLogger } from './logger';

/**
 * Turns whatever a NATS handler throws into an error envelope; unknown errors are logged, not
 * leaked. In the gateway, which serves HTTP too, HTTP errors go to the gateway's own filter.
 */
@Catch()
export class RpcEnvelopeFilter implements RpcExceptionFilter<unknown> {
  constructor(
    private readonly logger: AppLogger,
    private readonly http?: ExceptionFilter,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<ErrorEnvelope> {
    if (host.getType() === 'http' && this.http) return this.http.catch(exception, host);
    if (exception instanceof AppException) return throwError(() => exception.toEnvelope());
    const unavailable = databaseUnavailable(exception);
    if (unavailable) {
      this.logger.warn({ err: exception }, 'control database unavailable; answered as retryable');
      return throwError(() => unavailable.toEnvelope());
    }
    this.logger.error({ err: exception }, 'unhandled error in a message handler');
    return throwError(() => ({ code: ErrorCode.Internal, message: 'Internal error; see the service log.' }) satisfies ErrorEnvelope);
  }
}

/** Seconds a client should wait before trying again after a database outage. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * An error of the service's own (control) database that retrying fixes: the connection is lost
 * or cannot be made, or the statement hit something momentary. The client gets a 503 it can tell
 * apart (`details.reason`) and retry, never a 500. Connector workers turn their target databases'
 * errors into AppExceptions before they get here.
 */
export function databaseUnavailable(error: unknown): AppException | null {
  const kind = classifyDatabaseError(error);
  if (kind === 'permanent') return null;
  return kind === 'connection'
    ? new AppException(ErrorCode.ServiceUnavailable, 'The control database cannot be reached right now; try again shortly.', { reason: 'CONTROL_DATABASE_UNAVAILABLE', retryAfterSeconds: RETRY_AFTER_SECONDS })
    : new AppException(ErrorCode.ServiceUnavailable, 'The control database is busy right now; try again shortly.', { reason: 'CONTROL_DATABASE_BUSY', retryAfterSeconds: RETRY_AFTER_SECONDS });
}
