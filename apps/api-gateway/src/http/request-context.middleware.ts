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
      res.setHeader(CORRELATION_HEADER, currentCorrelationId()!);
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'http');
      });
      next();
    });
  };
}
