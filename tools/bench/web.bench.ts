import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Issue 11's budget: the JavaScript a browser loads before the first page shows. */
export const INITIAL_JS_BUDGET_KB = 250;

/**
 * The web console's initial download, measured on the built files (dist/apps/web): the scripts and
 * stylesheets index.html loads (with their module preloads), gzipped as the gateway sends them.
 * Pages behind the sign-in are separate chunks loaded on first visit, listed apart.
 */
export async function benchWeb(): Promise<Array<[string, string]>> {
  // dist/tools/bench -> dist/apps/web
  const dir = resolve(__dirname, '../../apps/web');
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(js|css))"/g)].map((m) => m[1]);
  const size = (ref: string) => {
    const body = readFileSync(join(dir, ref));
    return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
  };
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const js = refs.filter((r) => r.endsWith('.js')).map(size);
  const css = refs.filter((r) => r.endsWith('.css')).map(size);
  const jsGzip = js.reduce((n, s) => n + s.gzip, 0);
  const allChunks = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
  const lazy = allChunks.filter((f) => !refs.includes(`/assets/${f}`)).map((f) => size(`/assets/${f}`));
  const largestLazy = lazy.reduce((n, s) => Math.max(n, s.gzip), 0);
  return [
    [
      'initial JavaScript, gzipped',
      `${kb(jsGzip)} (${kb(js.reduce((n, s) => n + s.raw, 0))} raw, ${js.length} file(s)); budget ${INITIAL_JS_BUDGET_KB} KB: ${jsGzip <= INITIAL_JS_BUDGET_KB * 1024 ? 'met' : 'NOT met'}`,
    ],
    ['initial CSS, gzipped', kb(css.reduce((n, s) => n + s.gzip, 0))],
    ['page chunks loaded on first visit', `${lazy.length}, largest ${kb(largestLazy)} gzipped`],
  ];
}
