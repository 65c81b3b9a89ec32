import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ErrorCode, ErrorEnvelope } from '@latchkey/contracts';
import { errorEnvelopeOf, RETRY_AFTER_SECONDS } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { allowedMethods } from './route-table';
import { scimError } from './scim-metadata';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_CREDENTIALS: 401,
  TOO_MANY_ATTEMPTS: 429,
  CSRF_TOKEN_INVALID: 403,
  SSO_REQUIRED: 403,
  LINK_INVALID: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  CONNECTOR_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
};

/** Writes an error envelope with the status its code maps to (and the headers that go with it). */
export function sendError(response: Response, envelope: ErrorEnvelope, headers: Record<string, string> = {}, status = HTTP_STATUS[envelope.code]): void {
  if (status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
  // Every 503 is retryable, and a 429 (throttled sign-in) ends: say when (RFC 9110 section 10.2.3).
  if (status === 503 || status === 429) response.setHeader('Retry-After', String(retryAfterOf(envelope)));
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.status(status).json(envelope);
}

/** Every error leaves as `{code, message, details?}`: never a stack trace, never a bare 500 page. */
@Catch()
export class HttpEnvelopeFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const [status, envelope, headers] = this.toEnvelope(exception, request);
    if (status >= 500) this.logger.error({ err: exception, status }, 'request failed');
    // Under /scim/v2 an identity provider reads SCIM error bodies (RFC 7644 3.12), whatever failed.
    if (request.path.startsWith('/scim/')) {
      for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
      if (status === 503) response.setHeader('Retry-After', String(retryAfterOf(envelope)));
      response
        .status(status)
        .type('application/scim+json')
        .send(JSON.stringify(scimError(status, envelope.message)));
      return;
    }
    sendError(response, envelope, headers, status);
  }

  private toEnvelope(exception: unknown, request: Request): [number, ErrorEnvelope, Record<string, string>?] {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const cause = exception.cause as { type?: string } | undefined;
      // The router cannot decode the path (percent-encoding that is not UTF-8): not the body's fault.
      if (status === HttpStatus.BAD_REQUEST && cause?.type !== 'entity.parse.failed' && !decodable(request.path)) {
        return [
          400,
          {
            code: ErrorCode.ValidationFailed,
            message: 'The path must be percent-encoded UTF-8.',
            details: { issues: [{ field: '(path)', rule: 'must be percent-encoded UTF-8' }] },
          },
        ];
      }
      // body-parser's own errors: malformed JSON, body too large.
      if (status === HttpStatus.BAD_REQUEST || cause?.type === 'entity.parse.failed') {
        return [
          400,
          { code: ErrorCode.ValidationFailed, message: 'The body must be valid JSON.', details: { issues: [{ field: '(body)', rule: 'must be valid JSON' }] } },
        ];
      }
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) {
        return [
          413,
          {
            code: ErrorCode.ValidationFailed,
            message: 'The body is too large (at most 256 KiB).',
            details: { issues: [{ field: '(body)', rule: 'must be at most 256 KiB' }] },
          },
        ];
      }
      if (status === HttpStatus.NOT_FOUND) {
        const allowed = allowedMethods(request.path);
        if (allowed.length > 0) {
          const allow = allowed.join(', ');
          return [
            405,
            {
              code: ErrorCode.MethodNotAllowed,
              message: `${request.method} is not allowed on ${request.path}; it answers ${allow}.`,
              details: { allow: allowed },
            },
            { Allow: allow },
          ];
        }
        return [404, { code: ErrorCode.NotFound, message: 'No such route.' }];
      }
      const code = CODE_FOR_STATUS[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
      return [status, { code, message: exception.message }];
    }
    // Everything else (AppExceptions from the services, library errors, bugs) as every service maps it.
    const envelope = errorEnvelopeOf(exception, { log: 'gateway' });
    return [HTTP_STATUS[envelope.code], envelope];
  }
}

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function retryAfterOf(envelope: ErrorEnvelope): number {
  const seconds = envelope.details?.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0 ? seconds : RETRY_AFTER_SECONDS;
}
