import { benchAccess } from './access.bench';
import { BENCH_CONNECTOR } from './bench-target';
import { benchDiscovery } from './discovery.bench';
import { benchNotifications } from './notifications.bench';
import { benchProvisioning } from './provisioning.bench';
import { benchScim } from './scim.bench';
import { benchWeb } from './web.bench';

/**
 * `npm run bench`: Latchkey's figures side by side with raw SQL doing the same work, in one run,
 * against private PostgreSQL, Redis and NATS instances on this machine. Targets: DESIGN.md.
 */
async function main() {
  const only = process.argv.slice(2);
  const suites: Array<[string, () => Promise<Array<[string, string]>>]> = [
    ['provisioning', benchProvisioning],
    ['access', benchAccess],
    ['discovery', async () => Object.entries(await benchDiscovery()).map(([k, v]) => [k, String(v)])],
    ['web', benchWeb],
    ['notifications', benchNotifications],
    ['scim', benchScim],
  ];
  for (const [name, run] of suites) {
    if (only.length && !only.includes(name)) continue;
    process.stdout.write(`\n== ${name} (connector: ${BENCH_CONNECTOR})\n`);
    const started = Date.now();
    const rows = await run();
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
    process.stdout.write(`  (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
