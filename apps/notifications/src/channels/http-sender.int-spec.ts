import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postOnce } from './http-sender';

/** The sender against a real HTTP server on loopback: the address check happens at send time, on what the name resolves to. */
describe('webhook sender', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3_000).unref();
      if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://127.0.0.1/' }).end();
      res.writeHead(200).end('x'.repeat(5000));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses a name that resolves to loopback, and an IP literal, unless private addresses are allowed', async () => {
    const byName = await postOnce(`http://localhost:${port}/a`, {}, '{}', 5_000, false);
    expect(byName.statusCode).toBeNull();
    expect(byName.error).toMatch(/private or loopback/);
    const byIp = await postOnce(`http://127.0.0.1:${port}/b`, {}, '{}', 5_000, false);
    expect(byIp.error).toMatch(/private or loopback/);
    expect(hits).toEqual([]);
    const allowed = await postOnce(`http://localhost:${port}/c`, { 'webhook-id': 'msg_1' }, '{}', 5_000, true);
    expect(allowed).toMatchObject({ statusCode: 200, error: null });
    expect(allowed.responseExcerpt).toHaveLength(1024);
  });

  it('gives up after the timeout and never follows redirects', async () => {
    const slow = await postOnce(`http://127.0.0.1:${port}/slow`, {}, '{}', 300, true);
    expect(slow).toMatchObject({ statusCode: null, error: 'no answer within 300 ms' });
    const redirect = await postOnce(`http://127.0.0.1:${port}/redirect`, {}, '{}', 5_000, true);
    expect(redirect.statusCode).toBe(302);
    expect(hits.filter((h) => h === '/')).toEqual([]);
  });
});
