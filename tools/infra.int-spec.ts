// tools/infra.sh, run for real. The failure cases point the URLs at local ports nobody listens
// on, without CI and without --start, so the script must only explain (never start anything).
// The success case uses the default URLs: PostgreSQL, Redis and NATS on this machine, which
// `npm test` requires anyway (it runs `bash tools/infra.sh check` first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(__dirname, 'infra.sh');

interface Run {
  status: number | null;
  out: string;
  /** The `bash -x` trace (its own file descriptor, so the script's output is unchanged), when asked for. */
  trace: string;
}

function run(env: Record<string, string | undefined>, args: string[] = ['check'], trace = false): Run {
  const base: Record<string, string | undefined> = { ...process.env };
  // jest under CI has CI=true, which would let the script start servers on the closed ports
  delete base.CI;
  for (const key of ['LATCHKEY_DATABASE_URL', 'REDIS_URL', 'NATS_URL', 'CHROMIUM_PATH']) delete base[key];
  const result = spawnSync('bash', [...(trace ? ['-x'] : []), script, ...args], {
    env: { ...base, ...env, ...(trace ? { BASH_XTRACEFD: '3' } : {}) } as NodeJS.ProcessEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}`, trace: String(result.output[3] ?? '') };
}

/** A local TCP port that nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

function lineOf(out: string, service: string): string {
  return out.split('\n').find((l) => l.startsWith(`infra: ${service.padEnd(10)} `)) ?? '';
}

describe('tools/infra.sh', () => {
  it('is valid bash, every part of it', () => {
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    for (const part of ['common', 'postgres', 'redis', 'nats', 'tools'])
      expect(spawnSync('bash', ['-n', join(__dirname, 'infra', `${part}.sh`)]).status).toBe(0);
  });

  it('answers usage errors with exit 2', () => {
    expect(run({}, []).status).toBe(2);
    expect(run({}, ['check', '--bogus']).status).toBe(2);
    const help = run({}, ['--help']);
    expect(help.status).toBe(0);
    expect(help.out).toContain('usage: bash tools/infra.sh check [--start]');
  });

  it('passes with the default URLs (all three answer) and waits for nothing', () => {
    const { status, out, trace } = run({}, ['check'], true);
    expect(out).toMatch(/^infra: postgresql ok +postgres:\/\/postgres@127\.0\.0\.1:5432\/latchkey \(server \d+/m);
    expect(out).toMatch(/database latchkey (exists|created)|created database latchkey/);
    expect(out).toMatch(/^infra: redis +ok +redis:\/\/127\.0\.0\.1:6379$/m);
    expect(out).toMatch(/^infra: nats +ok +nats:\/\/127\.0\.0\.1:4222 \(server /m);
    expect(status).toBe(0);
    // Fast by construction, whatever the machine's load: no poll loop or pause ran (a check that hit
    // one of its timeouts would not have answered ok).
    expect(trace).toMatch(/^\++ timeout \d+ psql /m); // the trace is there
    expect(trace).not.toMatch(/^\++ (sleep|wait_for)\b/m);
  });

  it('--browser also checks chromium for the browser tests, and names a broken CHROMIUM_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-infra-'));
    try {
      const fake = join(dir, 'chromium');
      writeFileSync(fake, '#!/bin/sh\necho "Chromium 999.0.0.1"\n', { mode: 0o755 });
      const ok = run({ CHROMIUM_PATH: fake }, ['check', '--browser']);
      expect(lineOf(ok.out, 'chromium')).toBe(`infra: chromium   ok    ${fake} (Chromium 999.0.0.1)`);
      expect(ok.status).toBe(0);
      const broken = run({ CHROMIUM_PATH: join(dir, 'missing') }, ['check', '--browser']);
      expect(lineOf(broken.out, 'chromium')).toContain(`FAIL  CHROMIUM_PATH=${join(dir, 'missing')} is not a working chromium`);
      expect(broken.status).toBe(1);
      // Without --browser, chromium is none of npm start's business.
      expect(lineOf(run({ CHROMIUM_PATH: join(dir, 'missing') }).out, 'chromium')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--shells also checks zsh and fish for the CLI completion tests (a fake one on PATH is found and run)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-infra-'));
    try {
      writeFileSync(join(dir, 'fish'), '#!/bin/sh\necho "fish, version 99.1"\n', { mode: 0o755 });
      const ok = run({ PATH: `${dir}:${process.env.PATH}` }, ['check', '--shells']);
      expect(lineOf(ok.out, 'fish')).toBe(`infra: fish       ok    ${join(dir, 'fish')} (fish, version 99.1)`);
      // npm test installed Debian's zsh through this option (tools/test.sh passes it).
      expect(lineOf(ok.out, 'zsh')).toMatch(/^infra: zsh +ok +\/\S+\/zsh \((installed: )?zsh \d/);
      expect(ok.status).toBe(0);
      expect(lineOf(run({ PATH: `${dir}:${process.env.PATH}` }).out, 'fish')).toBe('');
      expect(run({}, ['--help']).out).toContain('--shells   also check zsh and fish');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Redis not answering on a local port: names it, prints how to start it, exits 1', async () => {
    const port = await closedPort();
    const { status, out } = run({ REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` });
    expect(status).toBe(1);
    const line = lineOf(out, 'redis');
    expect(line).toContain('FAIL');
    expect(line).toContain(`redis://:***@127.0.0.1:${port} does not answer`);
    expect(out).toContain(`redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ${port} --save "" --appendonly no`);
    expect(out).toContain('--start');
    expect(out).not.toContain('hunter2');
    // the others are still checked and reported
    expect(lineOf(out, 'postgresql')).toContain(' ok ');
    expect(lineOf(out, 'nats')).toContain(' ok ');
  });

  it('checks a Redis Cluster or Sentinel URL by its first node, and never starts a lone server in its place', async () => {
    // This machine's Redis stands in for a first seed node / Sentinel: each answers PING the same way.
    const cluster = run({ REDIS_URL: 'redis+cluster://127.0.0.1:6379,127.0.0.1:7001' });
    expect(lineOf(cluster.out, 'redis')).toMatch(/ok +redis\+cluster:\/\/127\.0\.0\.1:6379,127\.0\.0\.1:7001 \(first Redis Cluster node answers\)/);
    const port = await closedPort();
    const sentinel = run({ REDIS_URL: `redis+sentinel://:primary-secret@127.0.0.1:${port}/main`, CI: 'true' });
    expect(sentinel.status).toBe(1);
    expect(lineOf(sentinel.out, 'redis')).toContain(
      `FAIL  redis+sentinel://:***@127.0.0.1:${port}/main: the first Sentinel node 127.0.0.1:${port} does not answer PING`,
    );
    expect(sentinel.out).not.toContain('primary-secret');
    expect(sentinel.out).not.toContain('starting: redis-server');
  });

  it('NATS not answering on a local port: names it, prints how to start it, exits 1', async () => {
    const port = await closedPort();
    const { status, out } = run({ NATS_URL: `nats://user:s3cret@127.0.0.1:${port}` });
    expect(status).toBe(1);
    expect(lineOf(out, 'nats')).toContain(`FAIL  nats://user:***@127.0.0.1:${port} does not answer`);
    expect(out).toMatch(new RegExp(`start-stop-daemon --start --oknodo --background --exec \\S*nats-server .*-- -a 127\\.0\\.0\\.1 -p ${port} -js`));
    expect(out).not.toContain('s3cret');
  });

  it('PostgreSQL not answering on a local port: names it and what to do, exits 1', async () => {
    const port = await closedPort();
    const { status, out } = run({ LATCHKEY_DATABASE_URL: `postgres://postgres:pa55word@127.0.0.1:${port}/latchkey` });
    expect(status).toBe(1);
    expect(lineOf(out, 'postgresql')).toContain(`FAIL  postgres://postgres:***@127.0.0.1:${port}/latchkey does not answer`);
    // this machine's cluster listens on 5432: the script says so rather than starting it
    expect(out).toMatch(/pg_createcluster|pg_ctlcluster/);
    expect(out).not.toContain('pa55word');
  });

  it('a remote URL that does not answer is reported, never started', () => {
    const { status, out } = run({ REDIS_URL: 'redis://cache.invalid:6379' });
    expect(status).toBe(1);
    expect(lineOf(out, 'redis')).toContain('FAIL  redis://cache.invalid:6379 does not answer');
    expect(out).not.toContain('redis-server --daemonize');
  });

  it('rejects a URL of the wrong kind', () => {
    const { status, out } = run({ LATCHKEY_DATABASE_URL: 'mysql://root:pw@127.0.0.1/latchkey' });
    expect(status).toBe(1);
    expect(lineOf(out, 'postgresql')).toContain('is not a postgres:// URL');
    expect(out).toContain('mysql://root:***@127.0.0.1/latchkey');
  });
});
