import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { freePort, PrivateNats, PrivateRedis, REPO_ROOT, SHARED_DATABASE_URL, startNatsServer, startRedisServer, STARTUP_TIMEOUT_MS, withDatabase } from '@latchkey/testing';

jest.setTimeout(300_000);

/**
 * `npm start` on a fresh install (its last step, dist/tools/start/start.js, on private NATS, Redis
 * and control database): the banner carries a one-time link that lets the bootstrap admin set a
 * password and sign in, and no service logs it.
 */
describe('npm start on a fresh install', () => {
  let nats: PrivateNats;
  let redis: PrivateRedis;
  let child: ChildProcess | undefined;
  const dbName = `latchkey_start_e2e_${randomBytes(4).toString('hex')}`;
  let output = '';

  beforeAll(async () => {
    nats = await startNatsServer();
    redis = await startRedisServer();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    await nats?.stop();
    await redis?.stop();
    const admin = new Client({ connectionString: SHARED_DATABASE_URL });
    await admin.connect();
    await admin.query('SELECT format($1::text, $2::text) AS sql', ['DROP DATABASE IF EXISTS %I WITH (FORCE)', dbName]).then(({ rows }) => admin.query(rows[0].sql));
    await admin.end();
  });

  it('prints a one-time set-password link for the bootstrap admin, which works once', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/tools/start/start.js')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
        LATCHKEY_DATABASE_URL: withDatabase(SHARED_DATABASE_URL, dbName),
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
        LATCHKEY_ADMIN_TOKEN: `lk_${randomBytes(32).toString('base64url')}`,
        PORT: String(port),
        HOST: '127.0.0.1',
        CONNECTOR_HEARTBEAT_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = new Promise<void>((resolveBanner, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ctrl-C stops everything.')) resolveBanner();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`start exited with ${code}:\n${output.slice(-4000)}`)));
    });
    await running;

    expect(output).toContain(`console:     ${base}/`);
    const url = /set password: (\S+)/.exec(output)?.[1];
    expect(url).toMatch(new RegExp(`^${base}/set-password#token=lkl_[A-Za-z0-9_-]{43}$`));
    const token = decodeURIComponent(new URL(url!).hash.replace(/^#token=/, ''));

    const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // The script for installs without npm start (Docker) makes a new link, replacing the banner's.
    const again = () =>
      spawnSync(process.execPath, [resolve(REPO_ROOT, 'dist/tools/start/bootstrap-link.js')], { env: { PATH: process.env.PATH, NATS_URL: nats.url, PORT: String(port) }, encoding: 'utf8', timeout: 60_000 });
    const fresh = again();
    expect(fresh.status).toBe(0);
    const freshUrl = /^\s+(http\S+)$/m.exec(fresh.stdout)?.[1];
    expect(freshUrl).toMatch(new RegExp(`^${base}/set-password#token=lkl_`));
    const freshToken = decodeURIComponent(new URL(freshUrl!).hash.replace(/^#token=/, ''));
    expect(freshToken).not.toBe(token);

    const password = 'the first admin password';
    expect((await post('/api/v1/auth/password', { token, password })).status).toBe(400);
    expect((await post('/api/v1/auth/password', { token: freshToken, password })).status).toBe(204);
    expect((await post('/api/v1/auth/password', { token: freshToken, password: 'a second try at it' })).status).toBe(400);
    expect((await post('/api/v1/auth/sign-in', { email: 'admin@latchkey.local', password })).status).toBe(200);
    const none = again();
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('already has a password');

    // The banner is the only place: no service's log line holds the token.
    const serviceLines = output.split('\n').filter((line) => /^[a-z-]+\s+\| /.test(line));
    expect(serviceLines.length).toBeGreaterThan(10);
    expect(serviceLines.join('\n')).not.toContain(token);
    expect(serviceLines.join('\n')).not.toContain(freshToken);
  });
});
