// Packs the `latchkey` CLI as an npm tarball that installs on a machine with only Node: the
// compiled apps/cli and libs/contracts (from `npm run build`), its bin, the config file's JSON Schema, and apps/cli/package.json whose dependency
// versions must equal the repository's. Usage: node tools/pack-cli.mjs [destination folder]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const destination = resolve(process.argv[2] ?? join(root, 'dist'));
const compiled = join(root, 'dist/apps/cli/src');
if (!existsSync(join(compiled, 'main.js'))) throw new Error('dist/apps/cli is missing: run `npm run build` first');

const manifest = JSON.parse(readFileSync(join(root, 'apps/cli/package.json'), 'utf8'));
const repo = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const [name, version] of Object.entries(manifest.dependencies)) {
  const pinned = repo.dependencies[name];
  if (pinned !== version) throw new Error(`apps/cli/package.json pins ${name}@${version}, the repository ${pinned}: keep them equal`);
}
if (manifest.version !== repo.version) throw new Error(`apps/cli/package.json is version ${manifest.version}, the repository ${repo.version}`);

const staging = mkdtempSync(join(tmpdir(), 'latchkey-cli-pack-'));
try {
  cpSync(compiled, join(staging, 'apps/cli/src'), { recursive: true });
  // The config file's schema (`latchkey plan/apply`) is the contracts' own, checked at run time.
  cpSync(join(root, 'dist/libs/contracts/src'), join(staging, 'libs/contracts/src'), { recursive: true });
  cpSync(join(root, 'apps/cli/latchkey.schema.json'), join(staging, 'latchkey.schema.json'));
  cpSync(join(root, 'apps/cli/bin'), join(staging, 'bin'), { recursive: true });
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: staging, encoding: 'utf8' });
  console.log(join(destination, out.trim().split('\n').pop()));
} finally {
  rmSync(staging, { recursive: true, force: true });
}
