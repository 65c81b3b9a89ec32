import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CONNECTOR_SERVICES, ServiceName } from '@latchkey/contracts';
import { serviceEnvironment } from '@latchkey/config';

export const ALL_SERVICES: readonly ServiceName[] = ServiceName.options;

/** The process name of replica `index` (1-based) of a service: the first keeps the service's name. */
export const replicaName = (service: ServiceName, index: number): string => (index === 1 ? service : `${service}#${index}`);

/** Lines of output the supervisor keeps (all services together) to explain a failure; older ones are dropped. */
export const RECENT_LINES = 2000;

/**
 * V8 flags of every service process (the Dockerfile sets the same through NODE_OPTIONS). V8 sizes
 * the young generation from the machine's memory and lets it grow under load, and keeps those
 * pages: 10,000 grants left provisioning at 374 MB RSS, 236 MB of it V8 pages around 49 MB of live
 * objects. With 8 MB semi-spaces it peaked at 171-210 MB (`npm run bench -- provisioning`).
 * `--expose-gc` lets a service give pooled pages back once a burst is over (memory-release.ts in
 * libs/messaging): Node 24's V8 otherwise keeps them resident for the life of the process.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--expose-gc'];

export interface SupervisorOptions {
  /** Repository root; services run from `dist/` (npm run build). */
  root: string;
  /** Environment for the services (URLs, keys, PORT); each gets only Latchkey's variables its own schema reads. */
  env: Record<string, string | undefined>;
  services?: readonly ServiceName[];
  /** Environment of replica `index` (1-based) of `service` over `env`: a gateway's own PORT, a NATS node of a cluster. */
  replicaEnv?: (service: ServiceName, index: number) => Record<string, string>;
  /** Every output line of every service, as it comes. */
  onLine?: (service: string, line: string, stream: 'stdout' | 'stderr') => void;
}

interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** It logged that it started (its NATS subscriptions are up). */
  started: boolean;
}

/**
 * Runs Latchkey's services as processes (`node dist/apps/<service>/src/main.js`): `npm start` and
 * the end-to-end tests (which keep every line besides) use this one supervisor. It keeps only the
 * last RECENT_LINES lines of output, to say why a service did not start or answer.
 */
export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private readonly recent: Array<{ service: string; line: string }> = [];

  constructor(protected readonly options: SupervisorOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.env.PORT ?? 8080}`;
  }

  async start(): Promise<void> {
    for (const service of this.options.services ?? ALL_SERVICES) this.startReplica(service, 1);
  }

  /**
   * Starts (again) replica `index` of a service under its name (`replicaName`), with its own
   * environment: replicas join the service's NATS queue group and share its BullMQ queues.
   */
  startReplica(service: ServiceName, index: number): ChildProcess {
    return this.startProcess(replicaName(service, index), service, this.options.replicaEnv?.(service, index) ?? {});
  }

  /** Waits until the process `name` has logged that it started (its NATS subscriptions are up). */
  async waitStarted(name: string, timeoutMs = 180_000): Promise<void> {
    const m = this.managed.get(name);
    if (!m) throw new Error(`${name} is not running`);
    const deadline = Date.now() + timeoutMs;
    while (!m.started) {
      if (Date.now() > deadline || this.managed.get(name) !== m)
        throw new Error(`${name} did not start within ${timeoutMs} ms:\n${this.output(name).slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts one more process, e.g. a second connector with its own CONNECTOR_ID. */
  startProcess(name: string, service: ServiceName, extraEnv: Record<string, string> = {}): ChildProcess {
    if (this.managed.has(name)) throw new Error(`${name} is already running`);
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, join(this.options.root, 'dist/apps', service, 'src/main.js')], {
      cwd: this.options.root,
      env: serviceEnvironment(service, { PATH: process.env.PATH, ...this.options.env, ...extraEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const m: Managed = { name, child, exited, started: false };
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]! }).on('line', (line) => {
        if (!m.started && line.includes('"msg":"started"')) m.started = true;
        this.recent.push({ service: name, line });
        if (this.recent.length > RECENT_LINES) this.recent.shift();
        this.received(name, line);
        this.options.onLine?.(name, line, stream);
      });
    }
    this.managed.set(name, m);
    void exited.then(() => this.managed.get(name)?.child === child && this.managed.delete(name));
    return child;
  }

  /** Each line as it comes, for a subclass that keeps more of them. */
  protected received(_service: string, _line: string): void {}

  isRunning(name: string): boolean {
    return this.managed.has(name);
  }

  /** Resolves with the name and exit code of the first process that exits on its own. */
  firstExit(): Promise<{ name: string; code: number | null }> {
    return Promise.race([...this.managed.values()].map((m) => m.exited.then((code) => ({ name: m.name, code }))));
  }

  /** Kills a process outright (a crash, for fault tests); resolves once it is gone. */
  async kill(name: string): Promise<void> {
    const m = this.managed.get(name);
    if (!m) return;
    m.child.kill('SIGKILL');
    await m.exited;
  }

  /** SIGTERM (then SIGKILL after `graceMs`); resolves with the exit code. */
  async stopProcess(name: string, graceMs = 10_000): Promise<number | null> {
    const m = this.managed.get(name);
    if (!m) return null;
    m.child.kill('SIGTERM');
    const timer = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
    try {
      return await m.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(graceMs = 10_000): Promise<Record<string, number | null>> {
    const names = [...this.managed.keys()];
    const codes = await Promise.all(names.map((n) => this.stopProcess(n, graceMs)));
    return Object.fromEntries(names.map((n, i) => [n, codes[i]]));
  }

  /**
   * Waits until `GET /health` says that every service of this stack answers on NATS (all of them:
   * a 200; a subset: each of its services `ok` in the 503 that names the others).
   */
  async waitHealthy(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const expected = this.options.services ?? ALL_SERVICES;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.url}/health`);
        const text = await res.text();
        if (res.ok) return;
        const report = JSON.parse(text) as { services?: Record<string, { status: string }> };
        if (expected.every((s) => report.services?.[s]?.status === 'ok')) return;
        last = `${res.status} ${text}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    // Show what the services that do not answer said, not the gateway's own request log.
    const quiet = this.recent.filter((l) => l.service !== 'api-gateway' || !l.line.includes('"msg":"http"'));
    throw new Error(
      `the stack is not healthy after ${timeoutMs} ms: ${last}\n${quiet
        .slice(-40)
        .map((l) => `[${l.service}] ${l.line}`)
        .join('\n')}`,
    );
  }

  /** Waits until the catalog lists connector `id` as CONNECTED with all its services. */
  async waitForConnector(adminToken: string, id: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const res = await fetch(`${this.url}/api/v1/connectors`, { headers: { authorization: `Bearer ${adminToken}` } });
      const { items } = (await res.json()) as { items?: Array<{ id: string; status: string; services: string[] }> };
      if (items?.some((c) => c.id === id && c.status === 'CONNECTED' && c.services.length === CONNECTOR_SERVICES.length)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`connector ${id} did not connect within ${timeoutMs} ms`);
  }

  /** The recent output (the last RECENT_LINES lines of all services), of one process or of all. */
  output(name?: string): string {
    return this.recent
      .filter((l) => !name || l.service === name)
      .map((l) => l.line)
      .join('\n');
  }
}
