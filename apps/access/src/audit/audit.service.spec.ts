import { AppException } from '@latchkey/contracts';
import { redactEntry } from './audit.service';

describe('redactEntry', () => {
  it('redacts secrets in details by key name at any depth', () => {
    const { details } = redactEntry({
      details: { password: 'x', user: 'app', nested: { apiToken: 't', list: [{ clientSecret: 's', ok: 1 }] }, PGPASSWORD: 'p' },
    });
    expect(details).toEqual({
      password: '[REDACTED]',
      user: 'app',
      nested: { apiToken: '[REDACTED]', list: [{ clientSecret: '[REDACTED]', ok: 1 }] },
      PGPASSWORD: '[REDACTED]',
    });
  });

  it('keeps only that a secret field changed, and redacts secrets inside other fields', () => {
    const { diff } = redactEntry({
      diff: {
        password: { before: 'old', after: 'new' },
        token: { after: 't' },
        secret: { before: { store: 'builtin', envelope: 'abc' }, after: { store: 'env', passwordVar: 'PG_PASS' } },
        port: { before: 5432, after: 6432 },
      },
    });
    expect(diff).toEqual({
      password: { before: '[REDACTED]', after: '[REDACTED]' },
      token: { after: '[REDACTED]' },
      secret: { before: '[REDACTED]', after: '[REDACTED]' },
      port: { before: 5432, after: 6432 },
    });
  });

  it('redacts nested secrets in a field that is not itself secret', () => {
    const { diff } = redactEntry({ diff: { config: { before: { host: 'a', sslKey: 'PEM' }, after: { host: 'b', sslKey: 'PEM2' } } } });
    expect(diff).toEqual({ config: { before: { host: 'a', sslKey: '[REDACTED]' }, after: { host: 'b', sslKey: '[REDACTED]' } } });
  });

  it('gives null for an absent diff or details, and does not change the caller’s objects', () => {
    expect(redactEntry({})).toEqual({ diff: null, details: null });
    const details = { password: 'x' };
    redactEntry({ details });
    expect(details).toEqual({ password: 'x' });
  });

  it('refuses values that have no JSON form, naming the field', () => {
    expect(() => redactEntry({ details: { big: 1n } })).toThrow(AppException);
    expect(() => redactEntry({ details: { big: 1n } })).toThrow(/details: must be JSON-serializable/);
  });
});
