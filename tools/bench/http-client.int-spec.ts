import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchClient } from './http-client';

/** The bench's client against a real HTTP server on loopback: what it sends, what it answers. */
let server: Server;
let base: string;
const seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string; socket: unknown }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket });
      if (req.url === '/text') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('not now');
        return;
      }
      res
        .writeHead(201, { 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify({ echoed: Buffer.concat(chunks).toString('utf8') || null, ü: 'ü' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('benchClient', () => {
  it('sends the method, path, bearer token and JSON body, and parses a JSON answer', async () => {
    const api = benchClient(base, 2);
    try {
      const answer = await api('POST', '/api/v1/things?x=1', { token: 'tok', body: { a: 'ä' } });
      expect(answer.status).toBe(201);
      expect(answer.body).toEqual({ echoed: '{"a":"ä"}', ü: 'ü' });
      const request = seen.at(-1)!;
      expect(request).toMatchObject({ method: 'POST', url: '/api/v1/things?x=1', body: '{"a":"ä"}' });
      expect(request.headers).toMatchObject({
        authorization: 'Bearer tok',
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength('{"a":"ä"}')),
      });

      const read = await api('GET', '/api/v1/things', { token: 'tok' });
      expect(read.body).toEqual({ echoed: null, ü: 'ü' });
      expect(seen.at(-1)!.headers['content-type']).toBeUndefined();
      // Kept alive: the second call went over the first one's socket.
      expect(seen.at(-1)!.socket).toBe(seen.at(-2)!.socket);
    } finally {
      api.close();
    }
  });

  it('answers the text of an answer that is not JSON, with its status', async () => {
    const api = benchClient(base, 1);
    try {
      expect(await api('GET', '/text', { token: 'tok' })).toEqual({ status: 503, body: 'not now', text: 'not now' });
    } finally {
      api.close();
    }
  });

  it('rejects when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const api = benchClient(`http://127.0.0.1:${port}`, 1);
    await expect(api('GET', '/', { token: 'tok' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    api.close();
  });
});
