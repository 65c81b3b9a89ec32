import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { isPrivateAddress } from './url-policy';

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  /** The first bytes of the answer. */
  responseExcerpt: string | null;
  error: string | null;
}

const EXCERPT_BYTES = 1024;

/**
 * Resolves like the default lookup, then refuses private addresses: checked on the addresses the
 * socket actually connects to, so a name that changes between validation and send (DNS
 * rebinding) cannot reach inside.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const refused = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (refused)
        return callback(
          Object.assign(new Error(`${hostname} resolves to ${refused.address}, a private or loopback address (WEBHOOK_ALLOW_PRIVATE_URLS is false)`), {
            code: 'EPRIVATE',
          }),
          '',
          4,
        );
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** POSTs `body` once; never follows redirects; gives up after `timeoutMs`. Never throws. */
export function postOnce(rawUrl: string, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (r: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, latencyMs: elapsed() });
    };
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return done({ statusCode: null, responseExcerpt: null, error: 'the endpoint URL is not valid' });
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(host) && isPrivateAddress(host)) {
      return done({ statusCode: null, responseExcerpt: null, error: `${host} is a private or loopback address (WEBHOOK_ALLOW_PRIVATE_URLS is false)` });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Latchkey-Webhooks/1', 'content-length': Buffer.byteLength(body), ...headers },
      lookup: guardedLookup(allowPrivate),
    });
    timer = setTimeout(() => {
      req.destroy();
      done({ statusCode: null, responseExcerpt: null, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err: Error) => done({ statusCode: null, responseExcerpt: null, error: err.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= EXCERPT_BYTES) res.destroy();
      });
      const finish = () =>
        done({ statusCode: res.statusCode ?? null, responseExcerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8'), error: null });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    req.end(body);
  });
}
