import { ProvisioningEnv } from './env';
import { loadConfig } from './load-config';
import { parseRedisUrl, REDIS_URL_RULE } from './redis-url';

describe('parseRedisUrl', () => {
  it('reads one server, as before', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl('rediss://:secret@cache.internal:6380/2')).toEqual({ mode: 'standalone', url: 'rediss://:secret@cache.internal:6380/2' });
  });

  it('reads the seed nodes of a Redis Cluster, with credentials and TLS', () => {
    expect(parseRedisUrl('redis+cluster://127.0.0.1:7000,127.0.0.1:7001, [::1]:7002')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@a.example:7000')).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'a.example', port: 7000 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
  });

  it('reads Sentinels and the name of the primary they watch', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/latchkey-main')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'latchkey-main',
      password: 'pw',
      tls: false,
    });
  });

  it.each([
    ['http://127.0.0.1:6379', REDIS_URL_RULE],
    ['redis+cluster://127.0.0.1', '"127.0.0.1" is not host:port'],
    ['redis+cluster://127.0.0.1:70000', '"127.0.0.1:70000" is not host:port'],
    ['redis+cluster://127.0.0.1:7000/x', 'a cluster URL has no path'],
    ['redis+sentinel://127.0.0.1:26379', 'the path must be the master name'],
    ['redis+sentinel://127.0.0.1:26379/bad name', 'the path must be the master name'],
  ])('refuses %s, saying why', (value, reason) => {
    expect((parseRedisUrl(value) as { error: string }).error).toContain(reason);
  });

  it('is how the services check REDIS_URL at start: a bad one is named with the rule', () => {
    expect(loadConfig('provisioning', ProvisioningEnv, { REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001' }).REDIS_URL).toBe(
      'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
    );
    expect(() => loadConfig('provisioning', ProvisioningEnv, { REDIS_URL: 'redis+sentinel://127.0.0.1:26379' })).toThrow(/REDIS_URL.*master name/s);
  });
});
