// Compiles apps/ and libs/ to dist/ with swc (TypeScript 7's tsc only type-checks here: see
// .npmrc). `@latchkey/<lib>` imports are rewritten to relative paths so dist/ runs with plain node.
// Then Vite bundles the web console (apps/web) into dist/apps/web, which the gateway serves.
import { transformFile } from '@swc/core';
import { build as vite } from 'vite';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const swcrc = JSON.parse(await readFile(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const testFile = /\.(spec|int-spec|e2e-spec)\.ts$/;
// The browser app is Vite's (below); its e2e suite runs from source under jest.
const webApp = join(root, 'apps', 'web');

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (path === webApp) continue;
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !testFile.test(entry.name)) yield path;
  }
}

function rewriteAliases(code, file) {
  return code.replace(/require\("@latchkey\/([a-z-]+)"\)/g, (_, lib) => {
    let rel = relative(dirname(file), join(root, 'libs', lib, 'src', 'index'));
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `require(${JSON.stringify(rel)})`;
  });
}

await rm(out, { recursive: true, force: true });
let count = 0;
for (const top of ['apps', 'libs', 'tools']) {
  const jobs = [];
  for await (const file of sources(join(root, top))) {
    jobs.push(
      transformFile(file, { ...swcrc, swcrc: false, sourceMaps: 'inline', filename: file }).then(async ({ code }) => {
        const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, rewriteAliases(code, file));
        count += 1;
      }),
    );
  }
  await Promise.all(jobs);
}
console.log(`built ${count} files into ${relative(process.cwd(), out) || '.'}`);

await vite({ configFile: join(webApp, 'vite.config.mts'), logLevel: 'warn', mode: 'production' });
console.log(`built the web console into ${relative(process.cwd(), join(out, 'apps', 'web')) || '.'}`);
