import { Agent, request } from 'node:http';

export interface BenchAnswer {
  status: number;
  body: any;
  text: string;
}

/**
 * The bench's HTTP client for the timed calls: `node:http` over kept-alive sockets (as many as
 * people at a time). The bench shares the machine's cores with the stack it measures, so its
 * client's own CPU is taken from the stack: `fetch` (undici, what the tests' `api()` uses) cost
 * about twice as much per call as this. Answers are parsed as JSON when they are JSON.
 */
export function benchClient(baseUrl: string, sockets: number) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const call = (method: string, path: string, opts: { token: string; body?: unknown }): Promise<BenchAnswer> =>
    new Promise((resolve, reject) => {
      const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const headers: Record<string, string | number> = { authorization: `Bearer ${opts.token}` };
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      const req = request({ agent, host: url.hostname, port: url.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any = text;
          if ((res.headers['content-type'] ?? '').includes('json')) body = JSON.parse(text);
          resolve({ status: res.statusCode ?? 0, body, text });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  return Object.assign(call, { close: () => agent.destroy() });
}
