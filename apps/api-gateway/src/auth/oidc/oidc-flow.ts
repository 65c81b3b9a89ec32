import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** The short-lived cookie that carries a sign-in in progress from /oidc/start to /oidc/callback. */
export const OIDC_FLOW_COOKIE = 'latchkey_oidc';
export const OIDC_FLOW_PATH = '/api/v1/auth/oidc';
/** How long a person has at the provider before the sign-in must start over. */
export const OIDC_FLOW_TTL_MS = 10 * 60_000;

/** What the callback checks the provider's answer against; never seen by the browser (sealed). */
export interface OidcFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** A path on Latchkey to land on after signing in. */
  returnTo: string;
  expiresAt: number;
}

/** AES-256-GCM key derived from the client secret: every gateway replica can open what another sealed. */
const keyOf = (secret: string): Buffer => Buffer.from(hkdfSync('sha256', secret, 'latchkey', 'oidc-flow-cookie-v1', 32));

/** Encrypts and authenticates the flow: the browser holds it, cannot read it, and cannot change it unnoticed. */
export function sealFlow(flow: OidcFlow, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(flow), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The flow in a cookie value, or null when it was tampered with, sealed under another key, malformed or expired. */
export function openFlow(value: string | undefined, secret: string, now = Date.now()): OidcFlow | null {
  if (!value || value.length > 4096) return null;
  try {
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < 29) return null;
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const flow = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as OidcFlow;
    if (typeof flow.state !== 'string' || typeof flow.nonce !== 'string' || typeof flow.codeVerifier !== 'string' || typeof flow.expiresAt !== 'number')
      return null;
    return flow.expiresAt > now ? { ...flow, returnTo: safeReturnTo(flow.returnTo) } : null;
  } catch {
    return null;
  }
}

/** Only a path on this site (no scheme, no `//host`, no backslash tricks): anything else lands on `/`. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > 1000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f]/.test(value)) return '/';
  return value;
}

/** The cookie's value in a request's Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq >= 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
