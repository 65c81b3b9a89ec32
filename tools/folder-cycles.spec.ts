// Each app's folders depend one way: when a file in apps/<app>/src/<a>/ imports from <b>/, nothing
// in <b>/ imports from <a>/, directly or through other folders. A cycle means two folders are one
// piece of code in two places; the shared part belongs in a folder both depend on. Imports are
// read with TypeScript's own pre-processor (static, dynamic and re-exports), tests included.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript-classic';

const root = join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Folder -> the folders of the same app it imports from. Files at src/ itself (main, the module) sit above every folder. */
function folderImports(src: string, files: ReadonlyArray<{ path: string; text: string }>): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const { path, text } of files) {
    const [folder, ...rest] = relative(src, path).split(sep);
    if (rest.length === 0) continue;
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const [target, ...targetRest] = relative(src, resolve(dirname(path), fileName)).split(sep);
      if (target === '..' || targetRest.length === 0 || target === folder) continue;
      edges.set(folder, (edges.get(folder) ?? new Set()).add(target));
    }
  }
  return edges;
}

/** The groups of two or more folders that reach each other (strongly connected components, Tarjan), each sorted. */
function tangles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

describe('folder dependencies inside each app', () => {
  it('finds a ring through several folders, and none in a one-way chain', () => {
    const graph = (pairs: Array<[string, string]>) => {
      const edges = new Map<string, Set<string>>();
      for (const [a, b] of pairs) edges.set(a, (edges.get(a) ?? new Set()).add(b));
      return edges;
    };
    expect(
      tangles(
        graph([
          ['grants', 'store'],
          ['revocations', 'store'],
          ['grants', 'revocations'],
        ]),
      ),
    ).toEqual([]);
    expect(
      tangles(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
          ['c', 'd'],
          ['e', 'f'],
          ['f', 'e'],
        ]),
      ),
    ).toEqual([
      ['a', 'b', 'c'],
      ['e', 'f'],
    ]);
  });

  it('reads relative imports, re-exports and dynamic imports between folders, and leaves out packages and the app root', () => {
    const src = '/app/src';
    const files = [
      {
        path: '/app/src/flows/flows.service.ts',
        text: "import { a } from '../requests/approvers';\nimport { z } from 'zod';\nimport { b } from './flow-matching';",
      },
      {
        path: '/app/src/requests/requests.service.ts',
        text: "export { c } from '../flows/flows.repository';\nconst m = () => import('../audit/audit.service');",
      },
      { path: '/app/src/access.module.ts', text: "import { RequestsModule } from './requests/requests.module';" },
    ];
    expect(folderImports(src, files)).toEqual(
      new Map([
        ['flows', new Set(['requests'])],
        ['requests', new Set(['flows', 'audit'])],
      ]),
    );
  });

  const apps = readdirSync(join(root, 'apps')).filter((app) => existsSync(join(root, 'apps', app, 'src')));
  it.each(apps)('%s: its folders depend one way', (app) => {
    const src = join(root, 'apps', app, 'src');
    const files = sourceFiles(src).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    expect(tangles(folderImports(src, files))).toEqual([]);
  });
});
