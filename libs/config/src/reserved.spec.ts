import { isLatchkeyVariable, serviceEnvironment } from './reserved';

describe('serviceEnvironment', () => {
  const env = {
    PATH: '/usr/bin',
    NATS_URL: 'nats://127.0.0.1:4222',
    LATCHKEY_DATABASE_URL: 'postgres://latchkey:pw@db/latchkey',
    REDIS_URL: 'redis://127.0.0.1:6379',
    LATCHKEY_MASTER_KEY: 'k'.repeat(44),
    LATCHKEY_ADMIN_TOKEN: 'lk_admin-token-of-at-least-24-chars',
    PORT: '8080',
    PG_BILLING_PASSWORD: 'a connector secret by reference',
    OIDC_CLIENT_SECRET: 'sso',
  };

  it('gives the admin token to the access service alone', () => {
    expect(serviceEnvironment('access', env).LATCHKEY_ADMIN_TOKEN).toBe(env.LATCHKEY_ADMIN_TOKEN);
    for (const service of ['api-gateway', 'integration-catalog', 'discovery', 'provisioning', 'rotation'] as const) {
      expect({ service, token: serviceEnvironment(service, env).LATCHKEY_ADMIN_TOKEN }).toEqual({ service, token: undefined });
    }
  });

  it("gives a connector its own settings and the host's other variables (env secrets), nothing else of Latchkey's", () => {
    expect(serviceEnvironment('rotation', env)).toEqual({
      PATH: '/usr/bin',
      NATS_URL: env.NATS_URL,
      REDIS_URL: env.REDIS_URL,
      LATCHKEY_MASTER_KEY: env.LATCHKEY_MASTER_KEY,
      PG_BILLING_PASSWORD: env.PG_BILLING_PASSWORD,
    });
    // The gateway runs the OIDC sign-in, so it alone gets the client secret; it keeps no state, so no database URL.
    expect(serviceEnvironment('api-gateway', env)).toEqual({
      PATH: '/usr/bin',
      NATS_URL: env.NATS_URL,
      PORT: '8080',
      OIDC_CLIENT_SECRET: env.OIDC_CLIENT_SECRET,
      PG_BILLING_PASSWORD: env.PG_BILLING_PASSWORD,
    });
  });

  it("knows the families that are Latchkey's", () => {
    expect(['LATCHKEY_ANYTHING_NEW', 'OIDC_CLIENT_SECRET', 'SMTP_URL', 'DATABASE_URL', 'ACCESS_SWEEP_INTERVAL_SECONDS'].every(isLatchkeyVariable)).toBe(true);
    expect(['PGPASSWORD', 'BILLING_DB_PASSWORD', 'HOME'].some(isLatchkeyVariable)).toBe(false);
  });
});
