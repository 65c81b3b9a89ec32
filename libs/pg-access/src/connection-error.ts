import { DatabaseError } from 'pg';
import type { SslMode } from '@latchkey/contracts';
import type { SslAttempt } from './ssl-attempts';

export type TargetConnectionErrorKind =
  | 'tls_required'
  | 'tls_unsupported'
  | 'tls_handshake'
  | 'certificate'
  | 'hostname_mismatch'
  | 'auth'
  | 'database_not_found'
  | 'unreachable'
  | 'timeout'
  | 'other';

/** A target database could not be reached. The message and hint never contain the credentials. */
export class TargetConnectionError extends Error {
  override readonly name = 'TargetConnectionError';

  constructor(
    readonly kind: TargetConnectionErrorKind,
    message: string,
    /** What to change, in words an administrator acts on. */
    readonly hint: string,
    /** The SQLSTATE or Node error code behind the failure, when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Why one attempt failed. */
export interface AttemptFailure {
  attempt: SslAttempt;
  kind: TargetConnectionErrorKind;
  reason: string;
  hint: string;
  code?: string;
}

export interface FailureContext {
  sslmode: SslMode;
  hostname: string;
  port: number;
  timeoutMs: number;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
// OpenSSL's certificate verification results, as Node reports them in `code`.
const CERTIFICATE_CODE = /^(?:UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|INVALID_CA|PATH_LENGTH_EXCEEDED|HOSTNAME_MISMATCH)/;
// pg_hba.conf rejections name the encryption the client used: "no encryption" (PostgreSQL 14+), "SSL off" (13).
const HBA_REJECTED_PLAIN = /no pg_hba\.conf entry.*(?:no encryption|SSL off)/s;

const TLS_MODES_HINT = 'choose sslmode=require, verify-ca or verify-full';

/** Names what went wrong in one attempt and what to change, from the error node-pg raised. */
export function classifyAttemptFailure(error: unknown, attempt: SslAttempt, ctx: FailureContext, timedOut: boolean): AttemptFailure {
  const failure = (kind: TargetConnectionErrorKind, reason: string, hint: string, code?: string): AttemptFailure => ({
    attempt,
    kind,
    reason,
    hint,
    ...(code ? { code } : {}),
  });
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;

  if (timedOut) {
    return failure(
      'timeout',
      `no answer within ${ctx.timeoutMs} ms`,
      'check the host name, port and firewall between the connector and the database, or allow a longer connect timeout',
      'ETIMEDOUT',
    );
  }
  if (error instanceof DatabaseError) {
    if (code === '28000' && !attempt.tls && HBA_REJECTED_PLAIN.test(message)) {
      return failure(
        'tls_required',
        `the server accepts only TLS connections from this address (${message})`,
        ctx.sslmode === 'disable' ? TLS_MODES_HINT : `${TLS_MODES_HINT}, or allow plain connections in pg_hba.conf`,
        code,
      );
    }
    if (code === '28P01' || code === '28000') {
      return failure(
        'auth',
        message,
        'check the username and password in the integration secret, that the role has LOGIN, and that pg_hba.conf admits it',
        code,
      );
    }
    if (code === '3D000') return failure('database_not_found', message, 'check the database name', code);
    return failure('other', message, 'see the server log for details', code);
  }
  if (message === 'The server does not support SSL connections') {
    return failure(
      'tls_unsupported',
      'the server does not support TLS',
      'enable ssl on the server, or choose sslmode=prefer, allow or disable to connect without encryption',
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = (error as { cert?: { subjectaltname?: string } }).cert?.subjectaltname;
    return failure(
      'hostname_mismatch',
      `the server certificate is not issued for "${ctx.hostname}"${names ? ` (it names ${names})` : ''}`,
      'connect using a host name the certificate names, or choose sslmode=verify-ca to check the certificate chain only',
      code,
    );
  }
  if (code && CERTIFICATE_CODE.test(code)) {
    return failure(
      'certificate',
      `the server certificate could not be verified (${message})`,
      'set the root certificate to the CA that signed the server certificate, or choose sslmode=require to encrypt without verifying',
      code,
    );
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    return failure(
      'unreachable',
      `cannot reach ${ctx.hostname}:${ctx.port} (${code})`,
      'check the host name and port, that PostgreSQL listens on that address, and the firewall between the connector and the database',
      code,
    );
  }
  if (code?.startsWith('ERR_SSL_') || message === 'There was an error establishing an SSL connection') {
    return failure('tls_handshake', `the TLS handshake failed (${message})`, 'check the server TLS configuration, or choose sslmode=prefer or disable', code);
  }
  return failure('other', message, 'see the connector and server logs for details', code);
}

const RANK: Partial<Record<TargetConnectionErrorKind, number>> = { auth: 3, database_not_found: 2 };

/**
 * One error for all the attempts of an sslmode. The server's verdict on the credentials or the
 * database outranks transport details; otherwise the last attempt speaks, and earlier attempts
 * are named too (as libpq does).
 */
export function connectionErrorFrom(failures: AttemptFailure[], ctx: FailureContext, credentials: SecretCredentials): TargetConnectionError {
  const primary = failures.reduce((best, f) => ((RANK[f.kind] ?? 1) >= (RANK[best.kind] ?? 1) ? f : best));
  const others = failures.filter((f) => f !== primary).map((f) => `; ${describeAttempt(f.attempt)} attempt: ${f.reason}`);
  const message = `Cannot connect to ${ctx.hostname}:${ctx.port} with sslmode=${ctx.sslmode}: ${primary.reason}${others.join('')}. Fix: ${primary.hint}.`;
  return new TargetConnectionError(primary.kind, redactCredentials(message, credentials), redactCredentials(primary.hint, credentials), primary.code);
}

function describeAttempt(attempt: SslAttempt): string {
  return attempt.tls ? 'TLS' : 'plain';
}

/** The secret a connector logs in with: neither its username nor its passwords may leave the connector. */
export interface SecretCredentials {
  username: string;
  password: string;
  pendingPassword?: string;
}

export const REDACTED_TEXT = '[redacted]';

/**
 * Removes a secret's passwords wherever they appear and its username wherever PostgreSQL or
 * Latchkey quote it as a name (`role "x"`, `for user "x"`), whatever the server or a library
 * echoed. Quoted only: a username such as `postgres` also spells host and database names, which
 * the person fixing the error needs to read.
 */
export function redactCredentials(text: string, credentials: SecretCredentials): string {
  let out = text;
  for (const password of [credentials.password, credentials.pendingPassword]) {
    if (password) out = out.replaceAll(password, REDACTED_TEXT);
  }
  const user = credentials.username;
  if (user) {
    for (const quoted of new Set([`"${user}"`, `"${user.replaceAll('"', '""')}"`, `'${user}'`, `'${user.replaceAll("'", "''")}'`])) {
      out = out.replaceAll(quoted, `${quoted[0]}${REDACTED_TEXT}${quoted[0]}`);
    }
  }
  return out;
}

const ERROR_TEXT_FIELDS = ['message', 'stack', 'detail', 'hint', 'where', 'internalQuery'] as const;

/**
 * The same error with the credentials taken out of every text it carries (message, stack, and the
 * server's detail and hint): class, SQLSTATE and the rest stay, so callers still classify it.
 */
export function redactError<E>(error: E, credentials: SecretCredentials): E {
  if (typeof error !== 'object' || error === null) return typeof error === 'string' ? (redactCredentials(error, credentials) as E) : error;
  const fields = error as Record<string, unknown>;
  for (const field of ERROR_TEXT_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string') {
      const clean = redactCredentials(value, credentials);
      if (clean !== value)
        Object.defineProperty(error, field, {
          value: clean,
          writable: true,
          configurable: true,
          enumerable: Object.prototype.propertyIsEnumerable.call(error, field),
        });
    }
  }
  return error;
}
