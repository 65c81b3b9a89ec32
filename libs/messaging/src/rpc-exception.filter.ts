import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { ErrorCode, ErrorEnvelope } from '@latchkey/contracts';
import { AppException } from './app.exception';
import type { AppLogger } from './logger';

/** Turns whatever a handler throws into an error envelope; unknown errors are logged, not leaked. */
@Catch()
export class RpcEnvelopeFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<ErrorEnvelope> {
    if (exception instanceof AppException) return throwError(() => exception.toEnvelope());
    this.logger.error({ err: exception }, 'unhandled error in a message handler');
    return throwError(() => ({ code: ErrorCode.Internal, message: 'Internal error; see the service log.' }) satisfies ErrorEnvelope);
  }
}
