import { NoRespondersError } from '@nats-io/transport-node';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception.js';
import { TimeoutError } from 'rxjs';
import { AppException, ErrorCode, ErrorEnvelope } from '@latchkey/contracts';
import { SecretsError } from '@latchkey/secrets';
import { classifyDatabaseError } from './database-error';

/** Seconds a client should wait before trying again after an outage (a database, a target). */
export const RETRY_AFTER_SECONDS = 5;

export interface ErrorContext {
  /** A NATS request that failed: what it asked and of whom, to name what did not answer. */
  request?: { subject: string; connectorId?: string; timeoutMs: number };
  /**
   * Which database a PostgreSQL failure comes from: the service's own (`control`) or a target a
   * connector works on. Without it, errors are not read as database errors (the gateway has none).
   */
  database?: 'control' | 'target';
  /** Whose log an unexpected error is in, for the answer's message (default: the service's). */
  log?: string;
}

/**
 * Where a failure came from, for the log: `app` (an AppException or an envelope: already an
 * answer), `library` (a grant, secret or target connection error), `database` (retryable),
 * `transport` (NATS did not deliver or answer), `unknown` (a bug: logged, never leaked).
 */
export type ErrorOrigin = 'app' | 'library' | 'database' | 'transport' | 'unknown';

export interface MappedError {
  exception: AppException;
  origin: ErrorOrigin;
}

/**
 * The one place library errors become the envelope people read: the RPC filter, the HTTP filter,
 * the message bus and connector code all come here. What a person needs to act stays (a grant's
 * fix SQL, a connection's hint, the secret variable or file that is missing); the rest of an
 * unknown error stays in the log.
 *
 * Grant and target connection errors are the engine's (libs/pg-access), which this shared library
 * may not import (module boundaries): they are recognised by their stable `name` and fields, and
 * pg-access's own unit test holds this mapper to its real classes.
 */
export function mapError(error: unknown, context: ErrorContext = {}): MappedError {
  if (error instanceof AppException) return { exception: error, origin: 'app' };
  const envelope = ErrorEnvelope.safeParse(error);
  if (envelope.success) return { exception: AppException.fromEnvelope(envelope.data), origin: 'app' };
  if (context.request) return { exception: requestFailure(error, context.request), origin: 'transport' };
  const library = grantError(error) ?? targetConnectionError(error) ?? secretsError(error);
  if (library) return { exception: library, origin: 'library' };
  const unavailable = context.database ? databaseUnavailable(error, context.database) : null;
  if (unavailable) return { exception: unavailable, origin: 'database' };
  return { exception: new AppException(ErrorCode.Internal, `Internal error; see the ${context.log ?? 'service'} log.`), origin: 'unknown' };
}

export const toAppException = (error: unknown, context?: ErrorContext): AppException => mapError(error, context).exception;

export const errorEnvelopeOf = (error: unknown, context?: ErrorContext): ErrorEnvelope => toAppException(error, context).toEnvelope();

/** A NATS request that got no answer: nobody serves the subject, no answer in time, or the connection failed. */
function requestFailure(error: unknown, { subject, connectorId, timeoutMs }: NonNullable<ErrorContext['request']>): AppException {
  if (error instanceof TimeoutError) return new AppException(ErrorCode.Timeout, `No answer on ${subject} within ${timeoutMs} ms.`);
  // The server's "no responders" status: NestJS's client reports it as an empty response, nats.js as its own error.
  if (error instanceof EmptyResponseException || error instanceof NoRespondersError) {
    return connectorId
      ? new AppException(ErrorCode.ConnectorUnavailable, `Connector "${connectorId}" is not serving ${subject}: is it running?`)
      : new AppException(ErrorCode.ServiceUnavailable, `No service is serving ${subject}: is it running?`);
  }
  return new AppException(ErrorCode.ServiceUnavailable, `Messaging failed on ${subject}: ${messageOf(error)}`);
}

/**
 * A PostgreSQL failure that retrying fixes (the connection is lost or cannot be made, or the
 * statement hit something momentary): a 503 the client can tell apart (`details.reason`) and
 * retry, never a 500. Anything else is not the database's passing state: null.
 */
function databaseUnavailable(error: unknown, database: 'control' | 'target'): AppException | null {
  const kind = classifyDatabaseError(error);
  if (kind === 'permanent') return null;
  if (database === 'target') return targetUnavailable(messageOf(error));
  return kind === 'connection'
    ? new AppException(ErrorCode.ServiceUnavailable, 'The control database cannot be reached right now; try again shortly.', {
        reason: 'CONTROL_DATABASE_UNAVAILABLE',
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      })
    : new AppException(ErrorCode.ServiceUnavailable, 'The control database is busy right now; try again shortly.', {
        reason: 'CONTROL_DATABASE_BUSY',
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
}

const targetUnavailable = (message: string) =>
  new AppException(ErrorCode.ServiceUnavailable, `The target database is unavailable for now; try again shortly: ${message}`, {
    reason: 'TARGET_UNAVAILABLE',
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });

/** pg-access's GrantErrorCode, and what each is on the wire: the target's state refuses, or (sessions outliving termination) it may pass. */
const GRANT_ERROR_CODES: Record<string, ErrorCode> = {
  invalid_item: ErrorCode.ValidationFailed,
  not_found: ErrorCode.NotFound,
  not_managed: ErrorCode.Conflict,
  name_conflict: ErrorCode.Conflict,
  missing_privilege: ErrorCode.Conflict,
  sessions_survive: ErrorCode.ServiceUnavailable,
};

/** A grant or revocation the target refused; a missing privilege carries the SQL an administrator runs. */
function grantError(error: unknown): AppException | null {
  if (!(error instanceof Error) || error.name !== 'GrantError') return null;
  const { code, fix } = error as Error & { code?: unknown; fix?: unknown };
  const mapped = typeof code === 'string' ? GRANT_ERROR_CODES[code] : undefined;
  if (!mapped) return null;
  const details = {
    reason: code!.toString().toUpperCase(),
    ...(typeof fix === 'string' ? { fix } : {}),
    ...(mapped === ErrorCode.ServiceUnavailable ? { retryAfterSeconds: RETRY_AFTER_SECONDS } : {}),
  };
  return new AppException(mapped, typeof fix === 'string' ? withFix(error.message, fix) : error.message, details);
}

/**
 * A target that cannot be reached for now is retryable; one that refuses the connection (TLS,
 * certificate, credentials, database name) needs a person, and the hint says what to change.
 */
function targetConnectionError(error: unknown): AppException | null {
  if (!(error instanceof Error) || error.name !== 'TargetConnectionError') return null;
  if (classifyDatabaseError(error) !== 'permanent') return targetUnavailable(error.message);
  const { kind, hint } = error as Error & { kind?: unknown; hint?: unknown };
  return new AppException(ErrorCode.Conflict, error.message, {
    reason: 'TARGET_CONNECTION_REFUSED',
    ...(typeof kind === 'string' ? { kind } : {}),
    ...(typeof hint === 'string' ? { hint } : {}),
  });
}

/**
 * A master key or secret this process cannot use: an operator fixes the configuration, and the
 * same call then works. Secrets errors name variables, files and key ids, never secret material.
 */
function secretsError(error: unknown): AppException | null {
  if (!(error instanceof SecretsError)) return null;
  return new AppException(ErrorCode.ServiceUnavailable, error.message, { reason: error.code, retryAfterSeconds: RETRY_AFTER_SECONDS });
}

/** A failure's reason with the SQL that fixes it, worded once for the request, the console and the API. */
export function withFix(message: string, fix: string): string {
  return `${message}. To fix it, an administrator runs on the target:\n${fix}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
