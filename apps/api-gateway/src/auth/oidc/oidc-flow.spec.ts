import { openFlow, readCookie, safeReturnTo, sealFlow } from './oidc-flow';
import type { OidcFlow } from './oidc-flow';

const SECRET = 'the client secret of the provider';
const flow = (expiresAt = Date.now() + 60_000): OidcFlow => ({ state: 's-1', nonce: 'n-1', codeVerifier: 'v'.repeat(43), returnTo: '/requests', expiresAt });

describe('the sealed sign-in flow cookie', () => {
  it('opens what it sealed, and hides state, nonce and verifier', () => {
    const sealed = sealFlow(flow(), SECRET);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('s-1');
    expect(openFlow(sealed, SECRET)).toMatchObject({ state: 's-1', nonce: 'n-1', returnTo: '/requests' });
  });

  it('refuses a changed byte, another key, an expired flow, and garbage', () => {
    const sealed = sealFlow(flow(), SECRET);
    for (let i = 0; i < sealed.length; i += 7) {
      const changed = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
      expect(openFlow(changed, SECRET)).toBeNull();
    }
    expect(openFlow(sealed, 'another secret entirely')).toBeNull();
    expect(openFlow(sealFlow(flow(Date.now() - 1), SECRET), SECRET)).toBeNull();
    expect(openFlow(undefined, SECRET)).toBeNull();
    expect(openFlow('', SECRET)).toBeNull();
    expect(openFlow('not base64 at all !!', SECRET)).toBeNull();
    expect(openFlow('x'.repeat(5000), SECRET)).toBeNull();
  });

  it('lands only on paths of this site', () => {
    expect(safeReturnTo('/requests?id=1')).toBe('/requests?id=1');
    for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'requests', '/a\nb', 42, undefined]) expect(safeReturnTo(bad)).toBe('/');
  });

  it('reads one cookie among several', () => {
    expect(readCookie('a=1; latchkey_oidc=xyz; b=2', 'latchkey_oidc')).toBe('xyz');
    expect(readCookie(undefined, 'latchkey_oidc')).toBeUndefined();
  });
});
