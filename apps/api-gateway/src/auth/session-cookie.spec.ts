import type { Request } from 'express';
import { csrfMatches, csrfTokenFor, newSessionId, readSessionId, sessionHash } from './session-cookie';

const request = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as Request;

describe('session cookie', () => {
  it('makes 256-bit ids, different every time, and sends only their SHA-256', () => {
    const a = newSessionId();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSessionId()).not.toBe(a);
    expect(sessionHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionHash(a)).not.toContain(a);
  });

  it('reads the id from the cookie header among other cookies, and ignores what cannot be one', () => {
    const id = newSessionId();
    expect(readSessionId(request(`theme=dark; latchkey_session=${id}; other=1`))).toBe(id);
    expect(readSessionId(request(`latchkey_session=${id}`))).toBe(id);
    expect(readSessionId(request())).toBeNull();
    expect(readSessionId(request('latchkey_session=short'))).toBeNull();
    expect(readSessionId(request('xlatchkey_session=' + id))).toBeNull();
  });

  it('derives a CSRF token per session that does not reveal the id, and compares it exactly', () => {
    const id = newSessionId();
    const token = csrfTokenFor(id);
    expect(token).toBe(csrfTokenFor(id));
    expect(token).not.toBe(csrfTokenFor(newSessionId()));
    expect(token).not.toContain(id);
    expect(csrfMatches(token, id)).toBe(true);
    expect(csrfMatches(undefined, id)).toBe(false);
    expect(csrfMatches('', id)).toBe(false);
    expect(csrfMatches(token.slice(1), id)).toBe(false);
    expect(csrfMatches(csrfTokenFor(newSessionId()), id)).toBe(false);
  });
});
