import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ClientInfo } from '@latchkey/contracts';

export const SESSION_COOKIE = 'latchkey_session';
export const CSRF_HEADER = 'x-csrf-token';
/** 32 random bytes in base64url: what the cookie holds, and nothing else does. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** Methods that change nothing: the only ones a cookie alone may authenticate. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export const newSessionId = (): string => randomBytes(32).toString('base64url');

/** The only form in which a session id leaves the gateway (to the access service, which stores it). */
export const sessionHash = (sessionId: string): string => createHash('sha256').update(sessionId, 'utf8').digest('hex');

/**
 * The session's CSRF token, derived from its id: a page that cannot read the HttpOnly cookie
 * cannot compute it, and it reveals nothing about the id (HMAC). Nothing to store.
 */
export const csrfTokenFor = (sessionId: string): string => createHmac('sha256', sessionId).update('latchkey-csrf-v1').digest('base64url');

export function csrfMatches(presented: string | undefined, sessionId: string): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The session id in the request's `latchkey_session` cookie, if it has the shape of one. */
export function readSessionId(req: Request): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return SESSION_ID.test(value) ? value : null;
  }
  return null;
}

/** Whether the session cookie must be Secure: LATCHKEY_PUBLIC_URL is https, or this request came over TLS. */
export const secureCookie = (req: Request, publicUrl: string | undefined): boolean => req.secure || (publicUrl?.startsWith('https:') ?? false);

export function setSessionCookie(res: Response, sessionId: string, expiresAt: Date, secure: boolean): void {
  res.cookie(SESSION_COOKIE, sessionId, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
}

/** Where a request came from (the socket's peer, or the client a proxy named in LATCHKEY_TRUST_PROXY forwards), for throttling and the audit log. */
export function clientOf(req: Request): ClientInfo {
  const userAgent = req.header('user-agent');
  return { address: (req.ip ?? req.socket.remoteAddress ?? 'unknown').slice(0, 100), ...(userAgent ? { userAgent: userAgent.slice(0, 500) } : {}) };
}

/** Links point at LATCHKEY_PUBLIC_URL, or else at the origin the admin's request used. */
export const publicBaseUrl = (req: Request, publicUrl: string | undefined): string => publicUrl ?? `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
