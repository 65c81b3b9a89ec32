import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { classifyDatabaseError } from '@latchkey/messaging';
import { connectTarget, type TargetConnectionParams } from './connection';
import { redactError } from './connection-error';

interface Idle {
  client: Client;
  since: number;
}

const TEMPLATE_DATABASES = new Set(['template0', 'template1']);

/**
 * Reuses sessions on target databases, one idle list per (server, database, user, password,
 * sslmode): a new session costs a TCP handshake, maybe TLS, and a SCRAM exchange, which would
 * otherwise dominate a grant. The passwords (current and staged) are part of the key, so a rotated
 * credential never reuses an old session. Idle sessions close after `idleMs`, kept short because an idle session
 * makes the owner's DROP DATABASE fail; sessions on template databases are never kept, as they
 * would block every CREATE DATABASE.
 */
export class TargetPool {
  private readonly idle = new Map<string, Idle[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly maxIdlePerKey = 64,
    private readonly idleMs = 10_000,
  ) {
    this.timer = setInterval(() => this.reap(), Math.min(idleMs, 10_000));
    this.timer.unref();
  }

  /**
   * Runs `work` on a session of `params`. A session whose connection broke is discarded and the
   * work retried once on a fresh one: callers' work is idempotent. Whatever `work` throws leaves
   * without the connector's credentials (see redactCredentials), like the session's own errors.
   */
  async with<T>(params: TargetConnectionParams, work: (client: Client) => Promise<T>): Promise<T> {
    const key = keyOf(params);
    for (let attempt = 0; ; attempt += 1) {
      const { client, reused } = await this.acquire(key, params);
      try {
        const result = await work(client);
        this.release(key, params, client);
        return result;
      } catch (err) {
        const broken = isBroken(err) || !isUsable(client);
        if (broken) void client.end().catch(() => undefined);
        else {
          // The work may have failed inside a transaction: never hand out an aborted session.
          await client.query('ROLLBACK').catch(() => undefined);
          this.release(key, params, client);
        }
        if (!(broken && reused && attempt === 0)) throw redactError(err, params);
      }
    }
  }

  async end(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((i) => i.client.end().catch(() => undefined)));
  }

  private async acquire(key: string, params: TargetConnectionParams): Promise<{ client: Client; reused: boolean }> {
    const list = this.idle.get(key);
    while (list?.length) {
      const { client } = list.pop()!;
      if (isUsable(client)) {
        socketOf(client)?.ref();
        return { client, reused: true };
      }
    }
    const { client } = await connectTarget(params);
    return { client, reused: false };
  }

  private release(key: string, params: TargetConnectionParams, client: Client) {
    if (!isUsable(client)) return;
    if (TEMPLATE_DATABASES.has(params.dbname)) {
      void client.end().catch(() => undefined);
      return;
    }
    const list = this.idle.get(key) ?? [];
    if (list.length >= this.maxIdlePerKey) {
      void client.end().catch(() => undefined);
      return;
    }
    // An idle session must not keep the process (or a test run) alive.
    socketOf(client)?.unref();
    list.push({ client, since: Date.now() });
    this.idle.set(key, list);
  }

  private reap() {
    const cutoff = Date.now() - this.idleMs;
    for (const [key, list] of this.idle) {
      const keep = list.filter((i) => i.since >= cutoff);
      for (const stale of list.filter((i) => i.since < cutoff)) void stale.client.end().catch(() => undefined);
      if (keep.length) this.idle.set(key, keep);
      else this.idle.delete(key);
    }
  }
}

function keyOf(p: TargetConnectionParams): string {
  return createHash('sha256')
    .update(
      JSON.stringify([p.hostname, p.port, p.dbname, p.sslmode, p.sslRootCert ?? '', p.username, p.password, p.pendingPassword ?? '', p.applicationName ?? '']),
    )
    .digest('hex');
}

/** After such an error a session must not be reused: the connection itself is gone or unusable. */
function isBroken(err: unknown): boolean {
  return classifyDatabaseError(err) === 'connection';
}

function isUsable(client: Client): boolean {
  const internal = client as unknown as { _ending?: boolean; _queryable?: boolean; connection?: { stream?: { destroyed?: boolean } } };
  return !internal._ending && internal._queryable !== false && !internal.connection?.stream?.destroyed;
}

/** The process's pool of target sessions. */
export const targetSessions = new TargetPool();

function socketOf(client: Client): { ref(): void; unref(): void } | undefined {
  return (client as unknown as { connection?: { stream?: { ref(): void; unref(): void } } }).connection?.stream;
}
