import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { AccessEnv } from '@latchkey/config';
import { AccessFlow, Integration, ServiceName } from '@latchkey/contracts';
import { MASTER_KEY_MISMATCH } from '@latchkey/secrets';
import { Supervisor } from '@latchkey/supervisor';
import { bootstrapLink, consoleBaseUrl } from './bootstrap-link';
import { createDemo } from './demo';
import { demoGuide } from './demo-guide';
import { masterKeyWarning } from './master-key-warning';

const root = resolve(__dirname, '../../..');
const demo = process.argv.includes('--demo');
/** tools/start.sh says so when it has just created .latchkey/master.key. */
const newMasterKey = process.argv.includes('--new-master-key');
const token = process.env.LATCHKEY_ADMIN_TOKEN;
const adminEmail = AccessEnv.shape.LATCHKEY_ADMIN_EMAIL.parse(process.env.LATCHKEY_ADMIN_EMAIL);
const databaseUrl = process.env.LATCHKEY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/latchkey';
const width = Math.max(...ServiceName.options.map((s) => s.length));

let keyWarning = '';

/** One readable line per JSON log line: `service | level message {extra}`. */
function show(service: string, line: string) {
  let text = line;
  try {
    const { level, msg, time: _t, service: _s, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
    text = `${String(level).padEnd(5)} ${msg ?? ''}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`;
    if (msg === MASTER_KEY_MISMATCH) {
      keyWarning = masterKeyWarning(rest as { unreadable?: number; checked?: number }, newMasterKey);
      process.stderr.write(keyWarning);
    }
  } catch {
    // not JSON: print as is
  }
  process.stdout.write(`${service.padEnd(width)} | ${text}\n`);
}

/** Refuses early when PORT is taken: otherwise /health could be answered by someone else's gateway. */
function ensurePortFree(port: number): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', () => reject(new Error(`port ${port} is in use (another Latchkey still running?); stop it or set PORT`)));
    server.listen(port, process.env.HOST ?? '0.0.0.0', () => server.close(() => resolvePort()));
  });
}

async function main() {
  await ensurePortFree(Number(process.env.PORT ?? 8080));
  const consoleUrl = consoleBaseUrl();
  // Links in mail and webhooks point at the console the banner prints: the notifications service's own default assumes port 8080.
  const stack = new Supervisor({
    root,
    env: process.env,
    onLine: show,
    replicaEnv: (service): Record<string, string> => (service === 'notifications' ? { LATCHKEY_PUBLIC_URL: consoleUrl } : {}),
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping Latchkey...\n');
    await stack.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  await stack.start();
  void stack.firstExit().then(({ name, code }) => {
    if (stopping) return;
    process.stderr.write(`\n${name} exited with code ${code}; stopping the others.\n`);
    void stop(1);
  });
  await stack.waitHealthy();
  await stack.waitForConnector(token!, process.env.CONNECTOR_ID ?? 'local');

  // Without the link Latchkey still runs (the admin token works): say why, do not stop.
  const link = await bootstrapLink(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', consoleUrl).catch((err: Error) => ({ error: err.message }));
  const linkLine =
    link === null
      ? ''
      : 'error' in link
        ? `  set password: no one-time link for ${adminEmail}: ${link.error}\n`
        : `  set password: ${link.url}\n` +
          `               one-time link for ${adminEmail}, valid until ${link.expiresAt}; the next start prints a new one while no password is set\n`;

  let demoLine = '';
  if (demo) {
    const result = await createDemo(stack.url, token!, databaseUrl);
    const read = async (path: string) => (await fetch(`${stack.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
    demoLine =
      `  demo:        integration "Demo PostgreSQL" ${result.created ? 'created' : 'updated'} (${result.integrationId}), status ${result.status}\n` +
      demoGuide(
        stack.url,
        AccessFlow.parse(await read(`/access-flows/${result.flowId}`)),
        Integration.parse(await read(`/integrations/${result.integrationId}`)),
      );
  }
  process.stdout.write(
    `\nLatchkey is running.\n` +
      `  console:     ${consoleUrl}/\n` +
      `  API:         ${stack.url}/api/v1   (OpenAPI: ${stack.url}/api/docs, health: ${stack.url}/health)\n` +
      `  admin:       ${adminEmail} (LATCHKEY_ADMIN_EMAIL)\n` +
      `  admin token: ${token}\n` +
      linkLine +
      demoLine +
      `  try:         curl -s -H "Authorization: Bearer ${token}" ${stack.url}/api/v1/catalog\n` +
      `Ctrl-C stops everything.\n\n` +
      keyWarning,
  );
}

main().catch(async (err: Error) => {
  process.stderr.write(`npm start failed: ${err.message}\n`);
  process.exit(1);
});
