import type { NextFunction, Request, Response } from 'express';
import { ErrorCode } from '@latchkey/contracts';
import { sendError } from './http-exception.filter';

/** The one media type the API reads. */
export const JSON_MEDIA_TYPE = 'application/json';

/**
 * A body in anything but JSON is a 415 naming the expected type, rather than a body that silently
 * reads as missing. Requests without a body (most POST actions) pass whatever they declare.
 */
export function requireJsonBodies() {
  return (req: Request, res: Response, next: NextFunction) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (!hasBody || req.is(['application/json', '+json'])) return next();
    const given = req.headers['content-type'] ?? 'none';
    sendError(
      res,
      {
        code: ErrorCode.UnsupportedMediaType,
        message: `The body must be sent as ${JSON_MEDIA_TYPE} (Content-Type: ${JSON_MEDIA_TYPE}); this one is ${given}.`,
        details: { issues: [{ field: '(body)', rule: `must be sent with Content-Type: ${JSON_MEDIA_TYPE}` }] },
      },
      { Accept: JSON_MEDIA_TYPE },
    );
  };
}
