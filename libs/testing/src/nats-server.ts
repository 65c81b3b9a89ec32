import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export interface PrivateNats {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));

/** A private nats-server (JetStream on) on a free port, so suites never share subjects. */
export async function startNatsServer(): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'latchkey-nats-'));
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!(await answers(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      running.delete(child);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('INFO'));
    });
    socket.once('error', () => resolve(false));
  });
}

export interface NatsClusterNode {
  /** This node's client URL. */
  url: string;
  port: number;
  isRunning(): boolean;
  /** SIGKILL: the node is gone at once, as when its machine dies. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports; resolves once it routes to every other running node. */
  restart(): Promise<void>;
}

export interface PrivateNatsCluster {
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  url: string;
  nodes: NatsClusterNode[];
  stop(): Promise<void>;
}

/**
 * A NATS cluster of `size` local nats-server processes on free loopback ports, each with a route
 * to every other one (no JetStream: Latchkey uses core NATS only). Resolves once every node
 * routes to all the others.
 */
export async function startNatsCluster(size = 3): Promise<PrivateNatsCluster> {
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort(), monitor: await freePort() })),
  );
  const routes = ports.map((p) => `nats://127.0.0.1:${p.cluster}`).join(',');
  const children: Array<{ child: ChildProcess; exited: Promise<void> } | null> = ports.map(() => null);
  const spawnNode = (i: number) => {
    const p = ports[i];
    const child = spawn(
      'nats-server',
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(p.client),
        '-m',
        String(p.monitor),
        '-n',
        `latchkey-${i + 1}`,
        '--cluster_name',
        'latchkey',
        '--cluster',
        `nats://127.0.0.1:${p.cluster}`,
        '--routes',
        routes,
      ],
      { stdio: 'ignore' },
    );
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => running.delete(child));
    children[i] = { child, exited };
  };
  const stopNode = async (i: number, signal: NodeJS.Signals) => {
    const c = children[i];
    if (!c) return;
    c.child.kill(signal);
    await c.exited;
    children[i] = null;
  };
  /** Every running node answers and routes to every other running node. */
  const waitRouted = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = ports.map((_, i) => children[i] !== null);
      const ready = await Promise.all(
        ports.map(async (p, i) => {
          if (!up[i]) return true;
          if (!(await answers(p.client))) return false;
          const routez = await fetch(`http://127.0.0.1:${p.monitor}/routez`).then(
            (r) => r.json() as Promise<{ num_routes: number }>,
            () => null,
          );
          return routez !== null && routez.num_routes >= up.filter(Boolean).length - 1;
        }),
      );
      if (ready.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`the NATS cluster on ports ${ports.map((p) => p.client).join(', ')} did not form its routes`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (let i = 0; i < size; i++) spawnNode(i);
  const stop = async () => {
    await Promise.all(ports.map((_, i) => stopNode(i, 'SIGTERM')));
  };
  try {
    await waitRouted();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: ports.map((p) => `nats://127.0.0.1:${p.client}`).join(','),
    nodes: ports.map((p, i) => ({
      url: `nats://127.0.0.1:${p.client}`,
      port: p.client,
      isRunning: () => children[i] !== null,
      kill: () => stopNode(i, 'SIGKILL'),
      restart: async () => {
        if (children[i]) throw new Error(`NATS node ${i + 1} is running`);
        spawnNode(i);
        await waitRouted();
      },
    })),
    stop,
  };
}
