import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import type { ExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { ErrorCode, ErrorEnvelope } from '@latchkey/contracts';
import { AppException } from './app.exception';
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
    this.logger.error({ err: exception }, 'unhandled error in a message handler');
    return throwError(() => ({ code: ErrorCode.Internal, message: 'Internal error; see the service log.' }) satisfies ErrorEnvelope);
  }
}
