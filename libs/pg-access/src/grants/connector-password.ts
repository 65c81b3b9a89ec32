import type { Client } from 'pg';
import { connectTarget, type TargetConnectionParams } from '../connection';
import { TargetConnectionError } from '../connection-error';
import { quoteIdent, quoteLiteral } from '../quote';
import { scramVerifierAsync } from './scram';

/** How long a run waits for another run of the same connector user (another replica, or the schedule). */
const LOCK_TIMEOUT = "SET lock_timeout = '60s'";
const INVALID_PASSWORD = '28P01';

/** A session on the target holding the rotation lock of one connector user. */
export interface RotationSession {
  /** Sets the user's password, sent as a SCRAM-SHA-256 verifier computed here (no plaintext reaches the server). */
  setPassword(username: string, password: string): Promise<void>;
  release(): Promise<void>;
}

/**
 * Takes the rotation lock of the connector user `params.username`: an advisory lock on the target
 * itself, held by a fresh session (not pooled) opened with whichever password works now. Runs of
 * several replicas, the schedule and a manual rotation never overlap, and a process that dies
 * releases the lock with its session.
 */
export async function lockConnectorUser(params: TargetConnectionParams): Promise<RotationSession> {
  const { client } = await connectTarget(params);
  try {
    await client.query(LOCK_TIMEOUT);
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`latchkey:rotation:${params.username}`]);
  } catch (err) {
    await end(client);
    throw err;
  }
  return {
    setPassword: async (username, password) => {
      await client.query(`ALTER ROLE ${quoteIdent(username)} PASSWORD ${quoteLiteral(await scramVerifierAsync(password))}`);
    },
    release: () => end(client),
  };
}

/**
 * Whether a fresh session (no pool, no staged fallback) logs in with exactly these credentials:
 * false when the server refuses the password; other failures (unreachable, TLS) throw.
 */
export async function canLogin(params: TargetConnectionParams): Promise<boolean> {
  try {
    const { client } = await connectTarget({ ...params, pendingPassword: undefined });
    try {
      await client.query('SELECT 1');
    } finally {
      await end(client);
    }
    return true;
  } catch (err) {
    if (err instanceof TargetConnectionError && err.code === INVALID_PASSWORD) return false;
    throw err;
  }
}

function end(client: Client): Promise<void> {
  return client.end().catch(() => undefined);
}
