import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';

/**
 * Headers on every answer, API and console alike. The console loads nothing inline: scripts and
 * styles are files of its own origin, so the policy needs no 'unsafe-inline' and no nonce.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

/** Hashed file names never change content: cache them for a year. Everything else is revalidated. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/** Paths that belong to the API and probes: never answered with the console. */
const NOT_CONSOLE = /^\/(api|health|livez|readyz|metrics|scim)(\/|$)/;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  cacheControl: string;
}

export interface WebConsole {
  /** URL path -> file; `/` is index.html. */
  files: ReadonlyMap<string, StaticFile>;
  index: StaticFile;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Reads the built console (dist/apps/web) into memory once: a few hundred KB, each file gzipped
 * once. Requests can only name files found here, so no path ever reaches the file system.
 * Null when the console was not built.
 */
export function loadWebConsole(dir: string): WebConsole | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, StaticFile>();
  for (const path of walk(dir)) {
    const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
    const ext = extname(path).toLowerCase();
    const type = TYPES[ext];
    if (!type || ext === '.map') continue;
    const body = readFileSync(path);
    const gzip = COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(urlPath, { body, gzip, type, etag, cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE });
  }
  const index = files.get('/index.html')!;
  files.set('/', index);
  return { files, index };
}

export function securityHeaders() {
  return (_req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    next();
  };
}

/**
 * Serves the console: its files by exact path, and index.html for any other GET that a browser
 * navigates to (it accepts text/html and is not an API, probe or asset path), so client routes
 * such as /integrations/<id> load the app. Everything else goes on to the API (and its 404).
 */
export function serveWebConsole(web: WebConsole) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (NOT_CONSOLE.test(req.path)) return next();
    let file = web.files.get(req.path);
    if (!file) {
      const wantsPage = /\btext\/html\b/.test(req.headers.accept ?? '');
      if (!wantsPage || req.path.startsWith('/assets/')) return next();
      file = web.index;
    }
    send(req, res, file);
  };
}

function send(req: Request, res: Response, file: StaticFile) {
  res.setHeader('Content-Type', file.type);
  res.setHeader('Cache-Control', file.cacheControl);
  res.setHeader('ETag', file.etag);
  if (file.gzip) res.setHeader('Vary', 'Accept-Encoding');
  const known = (req.headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (known.includes(file.etag)) {
    res.status(304).end();
    return;
  }
  const gzip = file.gzip !== null && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? file.gzip! : file.body;
  if (gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', String(body.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}
