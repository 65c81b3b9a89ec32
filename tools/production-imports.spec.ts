import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript-classic';

const root = resolve(__dirname, '..');

/** Every file a production entry point loads, following relative and `@latchkey/<lib>` imports of the sources. */
function loaded(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    // Static, dynamic and re-exports, read as tools/folder-cycles.spec.ts reads them.
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const target = spec.startsWith('.')
        ? resolveFile(join(dirname(file), spec))
        : spec.startsWith('@latchkey/')
          ? join(root, 'libs', spec.slice('@latchkey/'.length), 'src/index.ts')
          : undefined;
      if (target) visit(target);
    }
  };
  visit(entry);
  return seen;
}

function resolveFile(base: string): string | undefined {
  return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((f) => existsSync(f));
}

const entries = [
  ...readdirSync(join(root, 'apps'))
    .map((app) => join(root, 'apps', app, 'src/main.ts'))
    .filter((f) => existsSync(f)),
  join(root, 'tools/start/start.ts'),
];

describe('production code', () => {
  it('finds every service entry point and npm start', () => {
    expect(entries.map((f) => relative(root, f))).toEqual(
      expect.arrayContaining(['apps/api-gateway/src/main.ts', 'apps/rotation/src/main.ts', 'apps/cli/src/main.ts', 'tools/start/start.ts']),
    );
  });

  it.each(entries.map((f) => [relative(root, f), f]))('%s never loads the test harness', (_name, entry) => {
    const files = [...loaded(entry)].map((f) => relative(root, f));
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((f) => f.startsWith('libs/testing/') || /\.(spec|int-spec|e2e-spec)\.ts$/.test(f))).toEqual([]);
  });
});
