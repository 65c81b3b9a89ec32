import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Every key gone, as when Redis restarts without persistence. */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));

/** A private redis-server on a free port (nothing on disk), for tests that lose or kill Redis. */
export async function startRedisServer(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-redis-'));
  const { child, exited } = await startServer(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    flushAll: async () => {
      const answer = await command(port, 'FLUSHALL');
      if (answer !== '+OK') throw new Error(`FLUSHALL answered ${answer}`);
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function command(port: number, cmd: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${cmd}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().trim());
    });
    socket.once('error', () => resolve(null));
  });
}

function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/** Starts a redis-server with these arguments in its own folder; resolves once it answers PING. */
async function startServer(args: string[], port: number, dir: string): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn('redis-server', args, { stdio: 'ignore', cwd: dir });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  const deadline = Date.now() + 60_000;
  while ((await command(port, 'PING')) !== '+PONG') {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server ${args.join(' ')} did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited };
}

const stopAll = async (servers: Array<{ child: ChildProcess; exited: Promise<void> }>) => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
};

export interface PrivateRedisCluster {
  /** REDIS_URL for it: redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  url: string;
  ports: number[];
  /** Keys matching `pattern` on every master, together. */
  keys(pattern: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** A Redis Cluster of three masters on free loopback ports (redis-server --cluster-enabled, redis-cli --cluster create). */
export async function startRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-redis-cluster-'));
  const ports: number[] = [];
  const servers: Array<{ child: ChildProcess; exited: Promise<void> }> = [];
  try {
    for (let i = 0; i < masters; i += 1) {
      const port = await freePort();
      const busPort = await freePort();
      ports.push(port);
      servers.push(
        await startServer(
          [
            '--port',
            String(port),
            '--cluster-port',
            String(busPort),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
          ],
          port,
          dir,
        ),
      );
    }
    await redisCli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes']);
    const deadline = Date.now() + 60_000;
    for (const port of ports) {
      while (!(await redisCli(['-p', String(port), 'CLUSTER', 'INFO'])).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`the Redis Cluster on ${ports.join(', ')} did not reach cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (err) {
    await stopAll(servers);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    keys: async (pattern) =>
      (await Promise.all(ports.map((p) => redisCli(['-p', String(p), '--scan', '--pattern', pattern])))).flatMap((out) => out.split('\n').filter(Boolean)),
    stop: async () => {
      await stopAll(servers);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedisSentinel {
  /** REDIS_URL for it: redis+sentinel://127.0.0.1:<sentinel>/<name> */
  url: string;
  name: string;
  /** The port of the primary the Sentinel names now. */
  primaryPort(): Promise<number>;
  /** SIGKILLs the primary and waits until the Sentinel has promoted the replica; resolves with its port. */
  failOver(): Promise<number>;
  stop(): Promise<void>;
}

/** A primary, its replica and a Sentinel watching them (quorum 1, down after 1 s), on free loopback ports. */
export async function startRedisSentinel(name = 'latchkey'): Promise<PrivateRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-redis-sentinel-'));
  const servers: Array<{ child: ChildProcess; exited: Promise<void> }> = [];
  const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
  const base = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--dbfilename',
    `dump-${port}.rdb`,
  ];
  try {
    servers.push(await startServer(base(primary), primary, dir));
    servers.push(await startServer([...base(replica), '--replicaof', '127.0.0.1', String(primary)], replica, dir));
    const deadline = Date.now() + 60_000;
    while (!(await redisCli(['-p', String(replica), 'INFO', 'replication'])).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error('the Redis replica did not sync with its primary');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Sentinel rewrites its configuration file: one of its own in the folder.
    writeFileSync(
      join(dir, 'sentinel.conf'),
      [
        `port ${sentinel}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primary} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    servers.push(await startServer([join(dir, 'sentinel.conf'), '--sentinel'], sentinel, dir));
  } catch (err) {
    await stopAll(servers);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const primaryPort = async () => Number((await redisCli(['-p', String(sentinel), 'SENTINEL', 'get-master-addr-by-name', name])).split('\n')[1]);
  return {
    url: `redis+sentinel://127.0.0.1:${sentinel}/${name}`,
    name,
    primaryPort,
    failOver: async () => {
      const current = await primaryPort();
      const server = servers[current === primary ? 0 : 1];
      server.child.kill('SIGKILL');
      await server.exited;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const now = await primaryPort();
        if (now !== current && (await redisCli(['-p', String(now), 'ROLE'])).startsWith('master')) return now;
        if (Date.now() > deadline) throw new Error(`Sentinel did not fail over from ${current} within 60 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop: async () => {
      await stopAll(servers);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
