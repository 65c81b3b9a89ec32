import { Client } from 'pg';
import { TLSSocket } from 'node:tls';
import type { SslMode } from '@latchkey/contracts';
import {
  classifyAttemptFailure,
  connectionErrorFrom,
  redactError,
  TargetConnectionError,
  type AttemptFailure,
  type FailureContext,
  type SecretCredentials,
} from './connection-error';
import { sslAttemptPlan, tlsOptionsFor, type SslAttempt } from './ssl-attempts';

export interface TargetConnectionParams {
  hostname: string;
  port: number;
  dbname: string;
  sslmode: SslMode;
  /** PEM of the CA certificate(s) that sign the server certificate. */
  sslRootCert?: string | null;
  username: string;
  password: string;
  /**
   * A password a rotation has staged but not yet stored as current: tried when the server refuses
   * `password` (SQLSTATE 28P01), since between "set on the database" and "stored" only it logs in.
   */
  pendingPassword?: string;
  /** Budget for the whole connection, every sslmode attempt included. */
  connectTimeoutMs?: number;
  applicationName?: string;
}

export interface TargetConnection {
  client: Client;
  /** Read from the socket: whether this session is encrypted. */
  tls: boolean;
  /** The session logged in with `pendingPassword`. */
  usedPending?: boolean;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_APPLICATION_NAME = 'latchkey';
/** SQLSTATE invalid_password: the server knows the role and refused the password. */
const INVALID_PASSWORD = '28P01';

/**
 * Opens a session on a target database, following libpq's sslmode rules rather than node-pg's
 * (which, given an sslmode, neither falls back nor skips verification the way libpq does). Throws
 * TargetConnectionError, whose message names the sslmode and what to change.
 *
 * Every session to a target starts here, so this is where the connector's credentials are kept
 * in: the connection error, and every error a query of the session raises, come out with the
 * username and passwords redacted (see redactCredentials). No status reason, answer or log line
 * built from them can carry the secret, wherever it was read from.
 */
export async function connectTarget(params: TargetConnectionParams): Promise<TargetConnection> {
  const { pendingPassword, ...current } = params;
  const credentials: SecretCredentials = { username: params.username, password: params.password, pendingPassword };
  let connection: TargetConnection;
  try {
    connection = await connectWith(current, credentials);
  } catch (err) {
    if (!pendingPassword || !(err instanceof TargetConnectionError) || err.code !== INVALID_PASSWORD) throw err;
    connection = { ...(await connectWith({ ...current, password: pendingPassword }, credentials)), usedPending: true };
  }
  redactQueryErrors(connection.client, credentials);
  return connection;
}

/** Errors of the session's queries (promise and callback forms) lose the credentials before anyone sees them. */
function redactQueryErrors(client: Client, credentials: SecretCredentials): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args[args.length - 1] = (err: unknown, ...rest: unknown[]) =>
        (callback as (...a: unknown[]) => unknown)(err ? redactError(err, credentials) : err, ...rest);
    }
    const result = query(...args);
    return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(redactError(err, credentials))) : result;
  };
}

async function connectWith(params: TargetConnectionParams, credentials: SecretCredentials): Promise<TargetConnection> {
  const timeoutMs = params.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const ctx: FailureContext = { sslmode: params.sslmode, hostname: params.hostname, port: params.port, timeoutMs };
  const failures: AttemptFailure[] = [];
  for (const attempt of sslAttemptPlan(params.sslmode, Boolean(params.sslRootCert))) {
    const outcome = await tryAttempt(params, attempt, deadline, ctx);
    if ('client' in outcome) return outcome;
    failures.push(outcome.failure);
    // libpq tries the other way only when the server answered; an unreachable host stays unreachable.
    if (!outcome.reached || outcome.failure.kind === 'timeout') break;
  }
  throw connectionErrorFrom(failures, ctx, credentials);
}

type AttemptOutcome = TargetConnection | { failure: AttemptFailure; reached: boolean };

async function tryAttempt(params: TargetConnectionParams, attempt: SslAttempt, deadline: number, ctx: FailureContext): Promise<AttemptOutcome> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return { failure: classifyAttemptFailure(undefined, attempt, ctx, true), reached: false };
  const client = new Client({
    host: params.hostname,
    port: params.port,
    database: params.dbname,
    user: params.username,
    password: params.password,
    ssl: attempt.tls ? tlsOptionsFor(attempt.check, params.hostname, params.sslRootCert ?? null) : false,
    // Explicit, so that no PG* environment variable of the connector's host changes the handshake.
    sslnegotiation: 'postgres',
    application_name: params.applicationName ?? DEFAULT_APPLICATION_NAME,
    connectionTimeoutMillis: remaining,
  });
  // A dropped session surfaces on the next query; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  let reached = false;
  client.connection.once('connect', () => {
    reached = true;
  });
  try {
    await client.connect();
  } catch (error) {
    client.connection.stream.destroy();
    const timedOut = (error instanceof Error && error.message === 'timeout expired') || Date.now() >= deadline;
    return { failure: classifyAttemptFailure(error, attempt, ctx, timedOut), reached };
  }
  return { client, tls: isEncrypted(client) };
}

function isEncrypted(client: Client): boolean {
  const stream = client.connection.stream;
  return stream instanceof TLSSocket && stream.encrypted;
}

export interface ServerInfo {
  /** `server_version`, e.g. "15.8 (Debian 15.8-1.pgdg120+1)". */
  version: string;
  /** `server_version_num`, e.g. 150008. */
  versionNum: number;
  majorVersion: number;
  currentUser: string;
  superuser: boolean;
  createRole: boolean;
}

/** What the session's server and role are. */
export async function getServerInfo(client: Client): Promise<ServerInfo> {
  const { rows } = await client.query<{ version: string; version_num: number; rolname: string; rolsuper: boolean; rolcreaterole: boolean }>(
    `SELECT current_setting('server_version') AS version,
            current_setting('server_version_num')::int AS version_num,
            r.rolname, r.rolsuper, r.rolcreaterole
       FROM pg_roles r
      WHERE r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error('The current role is missing from pg_roles');
  return {
    version: row.version,
    versionNum: row.version_num,
    majorVersion: Math.floor(row.version_num / 10_000),
    currentUser: row.rolname,
    superuser: row.rolsuper,
    createRole: row.rolcreaterole,
  };
}
