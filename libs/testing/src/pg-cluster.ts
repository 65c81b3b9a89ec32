import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, type QueryResultRow } from 'pg';
import type { TargetConnectionParams } from '@latchkey/pg-access';
import { freePort } from './free-port';
import { createTestCertificates } from './test-certificates';

const run = promisify(execFile);

export const DEFAULT_PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
const DIR_PREFIX = 'latchkey-pg-';
const HOST = '127.0.0.1';
const START_ATTEMPTS = 3;

/**
 * How TCP clients authenticate: `trust` lets anyone in, `scram` asks for a SCRAM-SHA-256 password
 * over TLS or plain, `hostssl-scram` also refuses plain TCP. The Unix socket always trusts, for the harness.
 */
export type PgHbaMode = 'trust' | 'scram' | 'hostssl-scram';

export interface PgClusterOptions {
  /** PostgreSQL binaries, so that any major version can be plugged in. */
  binDir?: string;
  /** Server TLS; on when `tls` is given. */
  ssl?: boolean;
  /** The server certificate's subject alternative names (default localhost and 127.0.0.1). */
  tls?: { serverCertHosts: string[] };
  hba?: PgHbaMode;
  superuser?: string;
  /** The OS user that runs PostgreSQL when this process is root (PostgreSQL refuses to run as root). */
  osUser?: string;
}

export interface PgCluster {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  /** PEM of the CA that signed the server certificate; null without TLS. */
  caPem: string | null;
  /** PEM of a CA that signed nothing here, for negative tests; null without TLS. */
  otherCaPem: string | null;
  /** Superuser parameters for connectTarget over TCP, sslmode prefer. */
  connectionParams(dbname?: string): TargetConnectionParams;
  /** Runs SQL as the superuser over the Unix socket, whatever the TCP rules; without params, several statements may be sent at once. */
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[], dbname?: string): Promise<R[]>;
  /** Stops the server like an outage (fast shutdown: open sessions end with 57P01), keeping its files and port. */
  halt(): Promise<void>;
  /**
   * Starts a halted server again, on the same port. With `acceptConnections: false` it comes up
   * as a standby without hot standby: every connection is refused with 57P03 ("the database
   * system is not accepting connections"), as while a server starts up, until halted and resumed.
   */
  resume(options?: { acceptConnections?: boolean }): Promise<void>;
  /** Stops the server and removes its files; safe to call twice. */
  stop(): Promise<void>;
  /** A streaming replica of this server (pg_basebackup -R), running on a free port of its own. */
  startReplica(): Promise<PgReplica>;
}

export interface PgReplica {
  port: number;
  /** Runs SQL as the superuser over the replica's Unix socket. */
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[], dbname?: string): Promise<R[]>;
  /**
   * Fails over to this replica: it is promoted (pg_ctl promote) and started again on `port`, the
   * address the primary had (as a virtual IP or a DNS name moves to the new primary). Halt the
   * primary first: a fast shutdown sends the replica every WAL record before it exits.
   */
  takeOver(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private PostgreSQL cluster in a temporary directory, on a free port of 127.0.0.1. */
export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const binDir = opts.binDir ?? DEFAULT_PG_BIN_DIR;
  const hba = opts.hba ?? 'scram';
  const ssl = opts.ssl ?? opts.tls !== undefined;
  const superuser = opts.superuser ?? 'postgres';
  if (hba === 'hostssl-scram' && !ssl) throw new Error('hba hostssl-scram needs ssl');
  const osUser = new OsUser(opts.osUser ?? 'postgres');

  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const watchdog = startWatchdog(binDir, dir, osUser);
  const cleanup = async () => {
    watchdog.kill();
    await osUser.run(join(binDir, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await osUser.own(dir);
    const superuserPassword = randomBytes(18).toString('base64url');
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${superuserPassword}\n`, { mode: 0o600 });
    await osUser.own(pwfile);
    await osUser.run(join(binDir, 'initdb'), [
      '-D',
      join(dir, 'data'),
      '-U',
      superuser,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await rm(pwfile);

    const settings: Record<string, string> = {
      listen_addresses: HOST,
      unix_socket_directories: dir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ssl: ssl ? 'on' : 'off',
    };
    let certificates = null;
    if (ssl) {
      const tlsDir = join(dir, 'tls');
      await mkdir(tlsDir);
      certificates = await createTestCertificates(tlsDir, opts.tls?.serverCertHosts ?? ['localhost', HOST]);
      await osUser.own(tlsDir);
      await osUser.own(certificates.serverCertFile);
      await osUser.own(certificates.serverKeyFile);
      // PostgreSQL refuses a key file others can read.
      await chmod(certificates.serverKeyFile, 0o600);
      settings.ssl_cert_file = certificates.serverCertFile;
      settings.ssl_key_file = certificates.serverKeyFile;
    }
    const conf = Object.entries(settings)
      .map(([k, v]) => `${k} = '${v}'`)
      .join('\n');
    await appendFile(join(dir, 'data', 'postgresql.conf'), `\n# latchkey test cluster\n${conf}\n`);
    await writeFile(join(dir, 'data', 'pg_hba.conf'), hbaLines(hba).join('\n') + '\n');

    const port = await startPostmaster(binDir, dir, osUser);
    const pgCtl = (args: string[]) => osUser.run(join(binDir, 'pg_ctl'), ['-D', join(dir, 'data'), ...args]);
    const query = <R extends QueryResultRow>(sql: string, params?: unknown[], dbname = 'postgres') =>
      socketQuery<R>({ dir, port, superuser }, sql, params, dbname);
    let stopping: Promise<void> | null = null;
    return {
      host: HOST,
      port,
      superuser,
      superuserPassword,
      caPem: certificates?.caPem ?? null,
      otherCaPem: certificates?.otherCaPem ?? null,
      connectionParams: (dbname = 'postgres') => ({
        hostname: HOST,
        port,
        dbname,
        sslmode: 'prefer',
        sslRootCert: null,
        username: superuser,
        password: superuserPassword,
      }),
      query,
      halt: () => pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']),
      resume: async ({ acceptConnections = true } = {}) => {
        const standbySignal = join(dir, 'data', 'standby.signal');
        if (acceptConnections) await rm(standbySignal, { force: true });
        else {
          await writeFile(standbySignal, '');
          await osUser.own(standbySignal);
        }
        try {
          await pgCtl(['-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port}${acceptConnections ? '' : ' -c hot_standby=off'}`, 'start']);
        } catch (error) {
          const serverLog = await readFile(join(dir, 'server.log'), 'utf8').catch(() => '');
          throw new Error(`PostgreSQL did not start again on port ${port}: ${(error as Error).message}\n${serverLog.slice(-2000)}`);
        }
      },
      stop: () => (stopping ??= cleanup()),
      startReplica: () => startReplica({ binDir, osUser, superuser, primaryDir: dir, primaryPort: port }),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function startReplica(p: { binDir: string; osUser: OsUser; superuser: string; primaryDir: string; primaryPort: number }): Promise<PgReplica> {
  const { binDir, osUser, superuser } = p;
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const watchdog = startWatchdog(binDir, dir, osUser);
  const pgCtl = (args: string[]) => osUser.run(join(binDir, 'pg_ctl'), ['-D', join(dir, 'data'), ...args]);
  const cleanup = async () => {
    watchdog.kill();
    await pgCtl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await osUser.own(dir);
    // -R: standby.signal and primary_conninfo (the primary's socket) are written for us.
    await osUser.run(join(binDir, 'pg_basebackup'), [
      '-h',
      p.primaryDir,
      '-p',
      String(p.primaryPort),
      '-U',
      superuser,
      '-D',
      join(dir, 'data'),
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ]);
    await appendFile(join(dir, 'data', 'postgresql.conf'), `\n# the replica's own socket\nunix_socket_directories = '${dir}'\n`);
    let port = await startPostmaster(binDir, dir, osUser);
    let stopping: Promise<void> | null = null;
    return {
      get port() {
        return port;
      },
      query: <R extends QueryResultRow>(sql: string, params?: unknown[], dbname = 'postgres') => socketQuery<R>({ dir, port, superuser }, sql, params, dbname),
      takeOver: async (newPort: number) => {
        await pgCtl(['-w', '-t', '60', 'promote']);
        await pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']);
        await pgCtl(['-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${newPort}`, 'start']);
        port = newPort;
      },
      stop: () => (stopping ??= cleanup()),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** SQL as the superuser over the server's Unix socket in `dir`; without params, several statements may be sent at once. */
async function socketQuery<R extends QueryResultRow>(
  server: { dir: string; port: number; superuser: string },
  sql: string,
  params: unknown[] | undefined,
  dbname: string,
): Promise<R[]> {
  const client = new Client({ host: server.dir, port: server.port, user: server.superuser, database: dbname });
  await client.connect();
  try {
    return (await (params ? client.query<R>(sql, params) : client.query<R>(sql))).rows;
  } finally {
    await client.end();
  }
}

function hbaLines(mode: PgHbaMode): string[] {
  // The harness's own way in, and pg_basebackup's for a replica.
  const local = 'local all all trust\nlocal replication all trust';
  switch (mode) {
    case 'trust':
      return [local, `host all all ${HOST}/32 trust`];
    case 'scram':
      return [local, `host all all ${HOST}/32 scram-sha-256`];
    case 'hostssl-scram':
      return [local, `hostssl all all ${HOST}/32 scram-sha-256`];
  }
}

/** Starts the server on a free port, trying another port when one was taken in the meantime. */
async function startPostmaster(binDir: string, dir: string, osUser: OsUser): Promise<number> {
  const log = join(dir, 'server.log');
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      await osUser.run(join(binDir, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', log, '-w', '-t', '120', '-o', `-p ${port}`, 'start']);
      return port;
    } catch (error) {
      const serverLog = await readFile(log, 'utf8').catch(() => '');
      if (attempt < START_ATTEMPTS && /could not bind|already in use/i.test(serverLog)) continue;
      throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${serverLog.slice(-2000)}`);
    }
  }
}

// Stops the cluster and removes its directory once the test process is gone, however it died.
const WATCHDOG_SCRIPT =
  'pid=$1; dir=$2; shift 2; while kill -0 "$pid" 2>/dev/null; do sleep 1; done; ' + '"$@" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1; rm -rf "$dir"';

/**
 * A detached shell that outlives this process: an 'exit' handler would not run on SIGKILL, nor
 * at all inside jest, whose sandbox has its own `process` object.
 */
function startWatchdog(binDir: string, dir: string, osUser: OsUser): ChildProcess {
  const [program, args] = osUser.command(join(binDir, 'pg_ctl'), []);
  const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'latchkey-pg-watchdog', String(process.pid), dir, program, ...args], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  return watchdog;
}

/** Runs PostgreSQL's programs as `name` when this process is root, as itself otherwise. */
class OsUser {
  private readonly ids: { uid: number; gid: number } | null;

  constructor(readonly name: string) {
    this.ids =
      process.getuid?.() === 0
        ? { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) }
        : null;
  }

  command(program: string, args: string[]): [string, string[]] {
    return this.ids ? ['runuser', ['-u', this.name, '--', program, ...args]] : [program, args];
  }

  async run(program: string, args: string[]): Promise<void> {
    await run(...this.command(program, args));
  }

  async own(path: string): Promise<void> {
    if (this.ids) await chown(path, this.ids.uid, this.ids.gid);
  }
}
