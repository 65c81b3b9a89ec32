import { checkServerIdentity } from 'node:tls';
import { sslAttemptPlan, tlsOptionsFor } from './ssl-attempts';

describe('sslAttemptPlan', () => {
  it.each([
    ['disable', false, [{ tls: false }]],
    ['allow', false, [{ tls: false }, { tls: true, check: 'none' }]],
    ['prefer', false, [{ tls: true, check: 'none' }, { tls: false }]],
    ['prefer', true, [{ tls: true, check: 'none' }, { tls: false }]],
    ['require', false, [{ tls: true, check: 'none' }]],
    ['require', true, [{ tls: true, check: 'chain' }]],
    ['verify-ca', false, [{ tls: true, check: 'chain' }]],
    ['verify-ca', true, [{ tls: true, check: 'chain' }]],
    ['verify-full', true, [{ tls: true, check: 'chain-and-host' }]],
  ] as const)('%s (root certificate: %s)', (mode, hasRootCert, plan) => {
    expect(sslAttemptPlan(mode, hasRootCert)).toEqual(plan);
  });
});

describe('tlsOptionsFor', () => {
  it('does not verify for the unverified attempts', () => {
    expect(tlsOptionsFor('none', 'db.example.com', 'PEM')).toEqual({ servername: 'db.example.com', rejectUnauthorized: false });
  });

  it('checks the chain but not the host name for verify-ca', () => {
    const options = tlsOptionsFor('chain', '10.0.0.5', 'PEM');
    expect(options).toMatchObject({ rejectUnauthorized: true, ca: 'PEM' });
    expect(options.checkServerIdentity?.('anything', {} as never)).toBeUndefined();
  });

  it('checks chain and host name for verify-full, with SNI only for names', () => {
    expect(tlsOptionsFor('chain-and-host', 'db.example.com', 'PEM')).toEqual({
      servername: 'db.example.com',
      rejectUnauthorized: true,
      ca: 'PEM',
      checkServerIdentity,
    });
    expect(tlsOptionsFor('chain-and-host', '::1', null)).toEqual({ rejectUnauthorized: true, checkServerIdentity });
  });
});
