import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { SslMode } from '@latchkey/contracts';

/** How the server certificate is checked on a TLS attempt. */
export type CertificateCheck = 'none' | 'chain' | 'chain-and-host';

/** One connection attempt: plain, or TLS with a given certificate check. */
export type SslAttempt = { tls: false } | { tls: true; check: CertificateCheck };

const PLAIN: SslAttempt = { tls: false };
const TLS_UNVERIFIED: SslAttempt = { tls: true, check: 'none' };

/**
 * The attempts libpq makes for an sslmode, in order. The second attempt of `allow` and `prefer`
 * is made only when the first one reached the server (see connection.ts).
 */
export function sslAttemptPlan(mode: SslMode, hasRootCert: boolean): SslAttempt[] {
  switch (mode) {
    case 'disable':
      return [PLAIN];
    case 'allow':
      return [PLAIN, TLS_UNVERIFIED];
    case 'prefer':
      return [TLS_UNVERIFIED, PLAIN];
    case 'require':
      // libpq: with a root certificate present, require behaves as verify-ca.
      return [hasRootCert ? { tls: true, check: 'chain' } : TLS_UNVERIFIED];
    case 'verify-ca':
      return [{ tls: true, check: 'chain' }];
    case 'verify-full':
      return [{ tls: true, check: 'chain-and-host' }];
  }
}

/**
 * node-pg's `ssl` option for one attempt. Without a root certificate, verification uses Node's
 * default CA store (libpq's sslrootcert=system).
 */
export function tlsOptionsFor(check: CertificateCheck, hostname: string, rootCert: string | null): ConnectionOptions {
  // SNI must not carry an IP address (RFC 6066, section 3).
  const servername = isIP(hostname) === 0 ? { servername: hostname } : {};
  switch (check) {
    case 'none':
      return { ...servername, rejectUnauthorized: false };
    case 'chain':
      return { ...servername, rejectUnauthorized: true, ...caOption(rootCert), checkServerIdentity: () => undefined };
    case 'chain-and-host':
      return { ...servername, rejectUnauthorized: true, ...caOption(rootCert), checkServerIdentity };
  }
}

function caOption(rootCert: string | null): Pick<ConnectionOptions, 'ca'> {
  return rootCert ? { ca: rootCert } : {};
}
