import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { ServiceName } from '@latchkey/contracts';
import { freePort } from './free-port';
import { startNatsServer } from './nats-server';
import { PrivateRedis, startRedisServer } from './redis-server';
import { ALL_SERVICES, replicaName, Stack } from './stack';

/** The repository root, found from this file both as source and compiled into dist/. */
export const REPO_ROOT = (() => {
  for (let dir = __dirname; dir !== resolve(dir, '..'); dir = resolve(dir, '..')) {
    const manifest = resolve(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'latchkey') return dir;
  }
  throw new Error(`no latchkey package.json above ${__dirname}`);
})();
export const SHARED_DATABASE_URL = process.env.LATCHKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface TestStack {
  stack: Stack;
  url: string;
  /** The URL of each gateway replica, in order (`url` is the first). */
  urls: string[];
  adminToken: string;
  /** The suite's own control database. */
  databaseUrl: string;
  natsUrl: string;
  /** The suite's own Redis (BullMQ queues are per connector id, so suites must not share one). */
  redis: PrivateRedis;
  env: Record<string, string>;
  /** `gateway` picks the gateway replica (1-based, default 1). */
  api<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string; gateway?: number },
  ): Promise<ApiAnswer<T>>;
  /** Every API answer body seen, to check nothing secret was ever returned. */
  responses: string[];
  control<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Starts the other replicas of every service (see `replicas`); resolves once each has started. */
  startReplicas(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The whole stack for one e2e suite: its services as real processes from dist/, a private NATS,
 * its own control database on the shared PostgreSQL, fresh keys. Run `npm run build` first.
 * The gateway always runs with `access`, which authenticates every API call; `adminToken` is the
 * bootstrap admin's token (LATCHKEY_ADMIN_TOKEN).
 */
export async function startTestStack(
  options: {
    services?: readonly ServiceName[];
    env?: Record<string, string>;
    /** The server that holds the suite's control database (default LATCHKEY_TEST_DATABASE_URL), e.g. a private cluster a test stops. */
    controlServerUrl?: string;
    /**
     * Processes per service (default 1): the first of each starts here, the others when the suite
     * calls `startReplicas()` (in a hook of its own: on a loaded 2-core machine starting them all
     * at once outlasts one hook's STARTUP_TIMEOUT_MS). Each gateway replica has its own port (`urls`).
     */
    replicas?: number;
    /** More environment for replica `index` (1-based) of a service, e.g. the NATS node it talks to. */
    replicaEnv?: (service: ServiceName, index: number) => Record<string, string>;
    /** NATS the suite started itself (a cluster, say), in NATS_URL's form; the suite stops it. Default: a private nats-server. */
    natsUrl?: string;
  } = {},
): Promise<TestStack> {
  if (!existsSync(resolve(REPO_ROOT, 'dist/apps/api-gateway/src/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the e2e tests (npm test does)');
  }
  const nats = options.natsUrl ? { url: options.natsUrl, stop: async () => undefined } : await startNatsServer();
  const redis = await startRedisServer();
  const dbName = `latchkey_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
  const controlServerUrl = options.controlServerUrl ?? SHARED_DATABASE_URL;
  const databaseUrl = withDatabase(controlServerUrl, dbName);
  const adminToken = `lk_${randomBytes(32).toString('base64url')}`;
  const replicas = options.replicas ?? 1;
  // A suite that fixes the gateway's port (its public URL is registered with an OIDC provider, say) keeps it for the first gateway.
  const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
  const gatewayPorts = [port];
  while (gatewayPorts.length < replicas) gatewayPorts.push(await freePort());
  const env: Record<string, string> = {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    LATCHKEY_DATABASE_URL: databaseUrl,
    LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
    LATCHKEY_ADMIN_TOKEN: adminToken,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    CONNECTOR_HEARTBEAT_SECONDS: '1',
    CONNECTOR_OFFLINE_AFTER_SECONDS: '4',
    ...options.env,
  };
  const services = withAuthentication(options.services ?? ALL_SERVICES);
  const stack = new Stack({
    root: REPO_ROOT,
    env,
    services,
    replicaEnv: (service, index) => ({
      ...(service === 'api-gateway' ? { PORT: String(gatewayPorts[index - 1]) } : {}),
      ...options.replicaEnv?.(service, index),
    }),
  });
  const urls = gatewayPorts.map((p) => `http://127.0.0.1:${p}`);
  const responses: string[] = [];
  // The suite's own session on its control database, opened again after the server went away.
  let control: Client | null = null;
  const controlSession = async (): Promise<Client> => {
    if (control) return control;
    const client = new Client({ connectionString: databaseUrl });
    client.on('error', () => {
      if (control === client) control = null;
    });
    client.on('end', () => {
      if (control === client) control = null;
    });
    await client.connect();
    control = client;
    return client;
  };

  const dispose = async () => {
    await stack.stop();
    await control?.end().catch(() => undefined);
    await nats.stop();
    await redis.stop();
    const admin = new Client({ connectionString: controlServerUrl });
    // A private control server may be gone already (the suite stopped it): nothing to drop then.
    if (
      !(await admin.connect().then(
        () => true,
        () => false,
      ))
    )
      return;
    await admin
      .query('SELECT format($1::text, $2::text) AS sql', ['DROP DATABASE IF EXISTS %I WITH (FORCE)', dbName])
      .then(({ rows }) => admin.query(rows[0].sql));
    await admin.end();
  };

  try {
    await stack.start();
    await stack.waitHealthy();
    if (services.includes('provisioning')) await stack.waitForConnector(adminToken, 'local');
    await controlSession();
  } catch (err) {
    await dispose();
    throw err;
  }

  return {
    stack,
    url: stack.url,
    urls,
    adminToken,
    databaseUrl,
    natsUrl: nats.url,
    redis,
    env,
    responses,
    control: async (sql, params) => (await (await controlSession()).query(sql, params)).rows,
    api: apiClient(urls, adminToken, responses),
    startReplicas: async () => {
      const others = services.flatMap((s) => Array.from({ length: replicas - 1 }, (_, i) => ({ service: s, index: i + 2 })));
      for (const { service, index } of others) if (!stack.isRunning(replicaName(service, index))) stack.startReplica(service, index);
      await Promise.all(others.map(({ service, index }) => stack.waitStarted(replicaName(service, index))));
    },
    dispose,
  };
}

/**
 * Calls the HTTP API as a person would (`TestStack.api`): `urls` the gateway replicas (`gateway`
 * picks one, 1-based), `adminToken` unless the call names a token (null: none). `seen`, when given,
 * keeps every answer's text for leak checks; leave it out where answers are many (benches).
 */
export function apiClient(urls: string | readonly string[], adminToken: string, seen?: string[]): TestStack['api'] {
  const gateways = typeof urls === 'string' ? [urls] : urls;
  return async (method, path, opts = {}) => {
    const token = opts.token === undefined ? adminToken : opts.token;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = opts.body !== undefined ? JSON.stringify(opts.body) : opts.raw;
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${gateways[(opts.gateway ?? 1) - 1]}${path}`, { method, headers, body: payload });
    const text = await res.text();
    seen?.push(text);
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, text, headers: res.headers };
  };
}

/** The gateway cannot authenticate anyone without the access service. */
function withAuthentication(services: readonly ServiceName[]): readonly ServiceName[] {
  return services.includes('api-gateway') && !services.includes('access') ? [...services, 'access'] : services;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
