/**
 * What a PostgreSQL failure means for the caller, decided in this one place for the control
 * database (every service) and for target databases (the engine, libs/pg-access):
 * - `connection`: the session is gone or could not be opened (server down, starting up, shutting
 *   down, network): try again later on a new connection.
 * - `transient`: the statement lost a race or hit a momentary limit: running it again resolves it.
 * - `permanent`: anything else (bad SQL, missing privilege, wrong password, ...): retrying cannot help.
 */
export type DatabaseErrorClass = 'connection' | 'transient' | 'permanent';

/** SQLSTATEs (and Node socket codes) after which the session is unusable or could not be made. */
const CONNECTION_CODES = new Set([
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  '57P01', // admin_shutdown: the server is stopping, or pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: "the database system is starting up / not yet accepting connections"
  '57P05', // idle_session_timeout
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** SQLSTATEs of a statement that running again resolves. */
const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '53000', // insufficient_resources
  '53200', // out_of_memory
  '53300', // too_many_connections (server-wide, per role or per database)
  '57014', // query_canceled (statement_timeout, or a cancel request)
]);

/** node-pg and pg-pool report a lost or unobtainable connection in words only. */
const CONNECTION_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|Connection refused|socket hang up/i;

/** The SQLSTATE or Node error code behind `error`, looking through TypeORM's and other wrappers. */
export function databaseErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyDatabaseError(error: unknown): DatabaseErrorClass {
  const code = databaseErrorCode(error);
  if (code && CONNECTION_CODES.has(code)) return 'connection';
  if (code && TRANSIENT_CODES.has(code)) return 'transient';
  // Concurrent updates of one catalog row (GRANT, ALTER ROLE, ALTER DEFAULT PRIVILEGES) fail this way.
  if (code === 'XX000' && /tuple concurrently (updated|deleted)/.test(messageOf(error))) return 'transient';
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) {
    for (let e: unknown = error, depth = 0; e && depth < 4; depth += 1) {
      if (CONNECTION_MESSAGE.test(messageOf(e))) return 'connection';
      e = typeof e === 'object' ? ((e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause) : undefined;
    }
  }
  return 'permanent';
}

/** Worth another try later: the connection failed, or the statement hit something momentary. */
export const isRetryableDatabaseError = (error: unknown): boolean => classifyDatabaseError(error) !== 'permanent';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : '';
}
