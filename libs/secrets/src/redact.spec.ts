import { randomBytes } from 'node:crypto';
import { encryptSecret } from './envelope';
import { MasterKey } from './master-key';
import { REDACTED_KEYS, isRedactedKey, redact } from './redact';
import { SecretResolutionError, SecretsErrorCode } from './secrets.exception';

const password = 'hunter2-do-not-log';

describe('REDACTED_KEYS', () => {
  it('lists every credential-bearing property name', () => {
    for (const name of ['password', 'secret', 'token', 'authorization', 'masterKey', 'envelope', 'wrappedKey', 'ciphertext', 'sslKey']) {
      expect(REDACTED_KEYS).toContain(name);
    }
  });

  it.each([
    'password',
    'PASSWORD',
    'PGPASSWORD',
    'newPassword',
    'admin_token',
    'LATCHKEY_MASTER_KEY',
    'x-api-key',
    'ssl_key',
    'Set-Cookie',
    'clientSecret',
    'scramVerifier',
  ])('catches %s', (name) => expect(isRedactedKey(name)).toBe(true));

  it.each(['username', 'passwordVar', 'passwordViewedAt', 'tokenId', 'kid', 'sslRootCert', 'sslmode', 'credentialRotationDays', 'store', 'path'])(
    'keeps %s',
    (name) => expect(isRedactedKey(name)).toBe(false),
  );
});

describe('redact', () => {
  it('replaces values under redacted keys at any depth, in objects and arrays', () => {
    const input = {
      user: 'alice',
      password,
      headers: { Authorization: `Bearer ${password}`, accept: 'application/json' },
      grants: [
        { role: 'lk_alice', password },
        { role: 'lk_bob', token: { value: password } },
      ],
    };
    expect(redact(input)).toEqual({
      user: 'alice',
      password: '[REDACTED]',
      headers: { Authorization: '[REDACTED]', accept: 'application/json' },
      grants: [
        { role: 'lk_alice', password: '[REDACTED]' },
        { role: 'lk_bob', token: '[REDACTED]' },
      ],
    });
  });

  it('copies without touching the input', () => {
    const input = { nested: { password } };
    const output = redact(input) as typeof input;
    expect(input.nested.password).toBe(password);
    expect(output.nested).not.toBe(input.nested);
  });

  it('hides a stored secret and an integration body', () => {
    const envelope = encryptSecret({ username: 'connector', password }, new MasterKey([randomBytes(32)]));
    const integration = {
      name: 'prod',
      config: { hostname: 'db', port: 5432, sslmode: 'verify-full', sslKey: '-----BEGIN PRIVATE KEY-----' },
      secretRef: { store: 'builtin', envelope },
      secret: { store: 'builtin', username: 'connector', password },
      masterKey: 'aGVsbG8=',
    };
    const text = JSON.stringify(redact(integration));
    expect(text).not.toContain(password);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(envelope.ciphertext);
    expect(text).not.toContain('aGVsbG8=');
    expect(text).toContain('"hostname":"db"');
  });

  it('turns cycles into [Circular] so the result serialises, but keeps shared references', () => {
    const shared = { kind: 'shared' };
    const node: Record<string, unknown> = { name: 'root', password, left: shared, right: shared };
    node.self = node;
    node.children = [node];
    const output = redact(node) as Record<string, unknown>;
    expect(output.self).toBe('[Circular]');
    expect(output.children).toEqual(['[Circular]']);
    expect(output.left).toEqual(shared);
    expect(output.right).toEqual(shared);
    expect(JSON.stringify(output)).not.toContain(password);
  });

  it('keeps an error’s class, name, message and stack, and redacts its own properties', () => {
    const cause = Object.assign(new Error('connection refused'), { password });
    const error = Object.assign(new SecretResolutionError(SecretsErrorCode.EnvVarMissing, 'Environment variable PG_PASSWORD is not set'), {
      cause,
      details: { token: password, field: 'secret.passwordVar' },
    });
    const output = redact({ err: error }) as { err: SecretResolutionError & typeof error };
    expect(output.err).toBeInstanceOf(SecretResolutionError);
    expect(output.err).not.toBe(error);
    expect(output.err.message).toBe(error.message);
    expect(output.err.name).toBe('SecretResolutionError');
    expect(output.err.stack).toBe(error.stack);
    expect(output.err.code).toBe(SecretsErrorCode.EnvVarMissing);
    expect(output.err.details).toEqual({ token: '[REDACTED]', field: 'secret.passwordVar' });
    expect((output.err.cause as Error & { password: string }).password).toBe('[REDACTED]');
    expect((output.err.cause as Error).message).toBe('connection refused');
    expect(Object.keys(output.err)).toEqual(Object.keys(error));
  });

  it('summarises binary data instead of copying it', () => {
    expect(redact({ raw: Buffer.from(password) })).toEqual({ raw: `[Binary: ${password.length} bytes]` });
    expect(redact(new Uint8Array(4))).toBe('[Binary: 4 bytes]');
  });

  it('handles maps, sets, dates and primitives', () => {
    const date = new Date('2025-01-01T00:00:00Z');
    const output = redact({
      at: date,
      map: new Map([
        ['password', password],
        ['user', 'alice'],
      ]),
      set: new Set([{ token: password }]),
    }) as {
      at: Date;
      map: Map<string, unknown>;
      set: Set<unknown>;
    };
    expect(output.at).toEqual(date);
    expect([...output.map]).toEqual([
      ['password', '[REDACTED]'],
      ['user', 'alice'],
    ]);
    expect([...output.set]).toEqual([{ token: '[REDACTED]' }]);
    for (const value of ['text', 42, true, null, undefined, 10n]) expect(redact(value)).toBe(value);
  });
});
