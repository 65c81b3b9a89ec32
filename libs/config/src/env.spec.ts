import { ConfigError, loadConfig } from './load-config';
import { AccessEnv, CatalogEnv, ConnectorServiceEnv, GatewayEnv, ProvisioningEnv } from './env';
import { compareVersions } from '@latchkey/contracts';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const env = loadConfig('api-gateway', GatewayEnv, {});
    expect(env).toMatchObject({ PORT: 8080, NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'info' });
    expect(env).not.toHaveProperty('LATCHKEY_DATABASE_URL');
    expect(loadConfig('provisioning', ConnectorServiceEnv, {})).toMatchObject({
      CONNECTOR_ID: 'local',
      CONNECTOR_VERSION: '1.3.0',
      CONNECTOR_HEARTBEAT_SECONDS: 5,
    });
    expect(loadConfig('integration-catalog', CatalogEnv, {})).toMatchObject({
      CONNECTOR_OFFLINE_AFTER_SECONDS: 20,
      LATCHKEY_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/latchkey',
    });
  });

  it('takes the seed servers of a NATS cluster in NATS_URL, comma-separated, each checked', () => {
    const seeds = 'nats://10.0.0.1:4222, nats://10.0.0.2:4222,tls://10.0.0.3:4222';
    expect(loadConfig('access', AccessEnv, { NATS_URL: seeds }).NATS_URL).toBe(seeds);
    expect(() => loadConfig('access', AccessEnv, { NATS_URL: 'nats://10.0.0.1:4222,http://10.0.0.2' })).toThrow(
      /NATS_URL: must be a URL with scheme nats:\/\/ or tls:\/\/, or several separated by commas/,
    );
  });

  it('lists every bad variable in one error, treating empty as unset', () => {
    try {
      loadConfig('access', AccessEnv.extend(GatewayEnv.shape), { PORT: '0', NATS_URL: 'http://x', LATCHKEY_ADMIN_TOKEN: 'short', LOG_LEVEL: '' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT: must be a port/m);
      expect(problems).toMatch(/^NATS_URL: must be a URL with scheme nats:\/\/ or tls:\/\//m);
      expect(problems).toMatch(/^LATCHKEY_ADMIN_TOKEN: must be at least 24 characters/m);
      expect(problems).not.toMatch(/LOG_LEVEL/);
    }
  });

  it('reads the sign-in settings, fractions included, and the public URL without a trailing slash', () => {
    expect(loadConfig('access', AccessEnv, {})).toMatchObject({
      SESSION_IDLE_MINUTES: 60,
      SESSION_MAX_HOURS: 12,
      SIGN_IN_MAX_FAILURES_PER_ACCOUNT: 5,
      SIGN_IN_MAX_FAILURES_PER_ADDRESS: 20,
      SIGN_IN_FAILURE_WINDOW_MINUTES: 15,
      INVITE_LINK_HOURS: 24,
      RESET_LINK_HOURS: 1,
    });
    expect(loadConfig('access', AccessEnv, { SESSION_IDLE_MINUTES: '0.1' }).SESSION_IDLE_MINUTES).toBe(0.1);
    expect(loadConfig('api-gateway', GatewayEnv, {}).LATCHKEY_PUBLIC_URL).toBeUndefined();
    expect(loadConfig('api-gateway', GatewayEnv, { LATCHKEY_PUBLIC_URL: 'https://latchkey.example.com/' }).LATCHKEY_PUBLIC_URL).toBe(
      'https://latchkey.example.com',
    );
    expect(() => loadConfig('api-gateway', GatewayEnv, { LATCHKEY_PUBLIC_URL: 'https://example.com/latchkey' })).toThrow(
      /LATCHKEY_PUBLIC_URL: must be an http\(s\) URL with no path/,
    );
    expect(() => loadConfig('access', AccessEnv, { SESSION_IDLE_MINUTES: '0' })).toThrow(/SESSION_IDLE_MINUTES: must be at least 0.05/);
    expect(loadConfig('api-gateway', GatewayEnv, { LATCHKEY_TRUST_PROXY: '1' }).LATCHKEY_TRUST_PROXY).toBe(1);
    expect(loadConfig('api-gateway', GatewayEnv, { LATCHKEY_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).LATCHKEY_TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
    expect(() => loadConfig('api-gateway', GatewayEnv, { LATCHKEY_TRUST_PROXY: 'true' })).toThrow(/LATCHKEY_TRUST_PROXY: must not be true/);
  });

  it('turns single sign-on on with the issuer, and then needs the client, its secret and the public URL', () => {
    const off = loadConfig('api-gateway', GatewayEnv, {});
    expect(off.OIDC_ISSUER_URL).toBeUndefined();
    expect(off.OIDC_GROUPS_CLAIM).toBe('groups');
    expect(() => loadConfig('api-gateway', GatewayEnv, { OIDC_ISSUER_URL: 'https://idp.example' })).toThrow(
      /OIDC_CLIENT_ID: must be set when OIDC_ISSUER_URL is[\s\S]*OIDC_CLIENT_SECRET: must be set[\s\S]*LATCHKEY_PUBLIC_URL: must be set/,
    );
    const on = loadConfig('api-gateway', GatewayEnv, {
      OIDC_ISSUER_URL: 'https://idp.example',
      OIDC_CLIENT_ID: 'id',
      OIDC_CLIENT_SECRET: 'a long secret',
      LATCHKEY_PUBLIC_URL: 'https://lk.example',
      OIDC_GROUPS_CLAIM: 'roles',
    });
    expect(on).toMatchObject({ OIDC_ISSUER_URL: 'https://idp.example', OIDC_GROUPS_CLAIM: 'roles', OIDC_SCOPES: 'openid email profile' });
    expect(() => loadConfig('api-gateway', GatewayEnv, { OIDC_ISSUER_URL: 'ftp://idp' })).toThrow(/OIDC_ISSUER_URL: must be an http\(s\) URL/);
    expect(loadConfig('access', AccessEnv, {})).toMatchObject({ OIDC_JIT: true, AUTH_REQUIRE_SSO: false });
    expect(loadConfig('access', AccessEnv, { OIDC_JIT: 'False', AUTH_REQUIRE_SSO: '1' })).toMatchObject({ OIDC_JIT: false, AUTH_REQUIRE_SSO: true });
    expect(() => loadConfig('access', AccessEnv, { AUTH_REQUIRE_SSO: 'maybe' })).toThrow(/AUTH_REQUIRE_SSO: must be true or false/);
  });

  it('reads the SCRAM iterations of personal logins: 64 unless set, a whole number from 1 to 100000', () => {
    expect(loadConfig('provisioning', ProvisioningEnv, {}).GRANT_SCRAM_ITERATIONS).toBe(64);
    expect(loadConfig('provisioning', ProvisioningEnv, { GRANT_SCRAM_ITERATIONS: '4096' }).GRANT_SCRAM_ITERATIONS).toBe(4096);
    for (const [value, rule] of [
      ['0', 'must be at least 1'],
      ['100001', 'must be at most 100000'],
      ['1.5', 'must be a whole number'],
      ['many', 'must be a whole number'],
    ]) {
      expect(() => loadConfig('provisioning', ProvisioningEnv, { GRANT_SCRAM_ITERATIONS: value })).toThrow(`GRANT_SCRAM_ITERATIONS: ${rule}`);
    }
  });

  it('refuses a bad connector id', () => {
    expect(() => loadConfig('provisioning', ConnectorServiceEnv, { CONNECTOR_ID: 'no spaces' })).toThrow(/CONNECTOR_ID/);
  });
});

describe('compareVersions', () => {
  it.each([
    ['1.3.0', '1.3.0', 0],
    ['1.10.0', '1.9.9', 1],
    ['1.2.9', '1.3.0', -1],
    ['2.0', '1.99.99', 1],
    ['1.3.0-rc.1', '1.3.0', -1],
    ['1.3.0', '1.3.0-rc.1', 1],
  ])('%s vs %s', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });
});
