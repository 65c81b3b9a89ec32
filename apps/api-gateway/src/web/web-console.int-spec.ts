import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { IMMUTABLE, loadWebConsole, REVALIDATE, SECURITY_HEADERS, securityHeaders, serveWebConsole } from './web-console';

/** The console's static serving on a real HTTP server, over a built-looking directory. */
describe('web console serving', () => {
  let root: string;
  let dir: string;
  let server: Server;
  let url: string;
  const bigScript = `console.log(${JSON.stringify('x'.repeat(5000))});`;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'latchkey-web-'));
    dir = join(root, 'web');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(root, 'secret.txt'), 'not for the web');
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Latchkey</title><script type="module" src="/assets/index-abc123.js"></script>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), bigScript);
    writeFileSync(join(dir, 'assets', 'index-abc123.js.map'), '{}');
    writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
    const web = loadWebConsole(dir)!;
    const app = express();
    app.use(securityHeaders());
    app.use(serveWebConsole(web));
    app.use((_req, res) => res.status(404).json({ code: 'NOT_FOUND' }));
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${url}${path}`, { method, headers });
  /** The bytes as sent (fetch would unzip them). */
  const raw = (path: string, headers: Record<string, string>) =>
    new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      request(`${url}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });

  it('is null when the console was not built', () => {
    expect(loadWebConsole(join(dir, 'nothing-here'))).toBeNull();
  });

  it('serves index.html at / and for any page a browser asks for, revalidated every time', async () => {
    for (const path of ['/', '/index.html', '/integrations/5f0e', '/people/users?x=1']) {
      const res = await get(path, { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
      expect({ path, status: res.status, cache: res.headers.get('cache-control'), type: res.headers.get('content-type') }).toEqual({
        path,
        status: 200,
        cache: REVALIDATE,
        type: 'text/html; charset=utf-8',
      });
      expect(await res.text()).toContain('<title>Latchkey</title>');
    }
  });

  it('caches hashed assets for a year, gzipped when asked, with an ETag', async () => {
    const plain = await get('/assets/index-abc123.js');
    expect(plain.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(await plain.text()).toBe(bigScript);

    const zipped = await raw('/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(zipped.body.length).toBeLessThan(bigScript.length / 10);
    expect(gunzipSync(zipped.body).toString()).toBe(bigScript);

    const etag = plain.headers.get('etag')!;
    expect((await get('/assets/index-abc123.js', { 'if-none-match': `W/${etag}, "other"` })).status).toBe(304);
    const head = await get('/assets/index-abc123.js', { 'accept-encoding': 'identity' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(bigScript)));
  });

  it('never answers the API, probes, source maps, missing assets or other files with the page', async () => {
    for (const path of ['/api/v1/nothing', '/api', '/health', '/metrics', '/scim/v2/Users', '/assets/missing.js', '/assets/index-abc123.js.map']) {
      const res = await get(path, { accept: 'text/html' });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    // Only files found at start are served: no path reaches the file system.
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      expect((await raw(path, { accept: 'text/html' })).body.toString()).not.toContain('not for the web');
    }
    // Not a browser navigation (no text/html): the API's 404.
    expect((await get('/integrations/5f0e', { accept: 'application/json' })).status).toBe(404);
    expect((await get('/', {}, 'POST')).status).toBe(404);
  });

  it('puts the security headers on every answer, the 404s included', async () => {
    for (const path of ['/', '/assets/index-abc123.js', '/api/v1/nothing']) {
      const res = await get(path, { accept: 'text/html' });
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect({ path, name, value: res.headers.get(name) }).toEqual({ path, name, value });
    }
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    );
  });
});
