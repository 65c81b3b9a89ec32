import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import type { ExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import type { ErrorEnvelope } from '@latchkey/contracts';
import { mapError } from './error-mapper';
import type { AppLogger } from './logger';

/**
 * Turns whatever a NATS handler throws into an error envelope (see mapError); unknown errors are
 * logged, not leaked. In the gateway, which serves HTTP too, HTTP errors go to the gateway's own filter.
 */
@Catch()
export class RpcEnvelopeFilter implements RpcExceptionFilter<unknown> {
  constructor(
    private readonly logger: AppLogger,
    private readonly http?: ExceptionFilter,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<ErrorEnvelope> {
    if (host.getType() === 'http' && this.http) return this.http.catch(exception, host);
    // Connector workers turn their target databases' errors into AppExceptions before they get here.
    const mapped = mapError(exception, { database: 'control' });
    if (mapped.origin === 'database') this.logger.warn({ err: exception }, 'control database unavailable; answered as retryable');
    else if (mapped.origin === 'library') this.logger.warn({ err: exception, code: mapped.exception.code }, 'library error answered to the caller');
    else if (mapped.origin === 'unknown') this.logger.error({ err: exception }, 'unhandled error in a message handler');
    return throwError(() => mapped.exception.toEnvelope());
  }
}
