import type { NextFunction, Request, Response } from 'express';
import { CORRELATION_HEADER, currentCorrelationId, withCorrelation } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';

/**
 * Gives each request a correlation id (the caller's `x-correlation-id` or a new one) that logs and
 * NATS messages carry, echoes it, and logs one line per request: never bodies or headers.
 */
export function requestContext(logger: AppLogger) {
  return (req: Request, res: Response, next: NextFunction) => {
    withCorrelation(req.header(CORRELATION_HEADER), () => {
      const correlationId = currentCorrelationId()!;
      res.setHeader(CORRELATION_HEADER, correlationId);
      const started = process.hrtime.bigint();
      // 'finish' fires outside the request's async context: name the id explicitly.
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.info({ correlationId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'http');
      });
      next();
    });
  };
}
