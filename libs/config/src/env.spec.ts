import { ConfigError, loadConfig } from './load-config';
import { AccessEnv, CatalogEnv, ConnectorServiceEnv, GatewayEnv } from './env';
import { compareVersions } from '@latchkey/contracts';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const env = loadConfig('api-gateway', GatewayEnv, {});
    expect(env).toMatchObject({ PORT: 8080, NATS_URL: 'nats://127.0.0.1:4222', LATCHKEY_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/latchkey', LOG_LEVEL: 'info' });
    expect(loadConfig('provisioning', ConnectorServiceEnv, {})).toMatchObject({ CONNECTOR_ID: 'local', CONNECTOR_VERSION: '1.3.0', CONNECTOR_HEARTBEAT_SECONDS: 5 });
    expect(loadConfig('integration-catalog', CatalogEnv, {}).CONNECTOR_OFFLINE_AFTER_SECONDS).toBe(20);
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
