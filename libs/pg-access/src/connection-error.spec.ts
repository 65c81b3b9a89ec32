import { DatabaseError } from 'pg';
import { classifyAttemptFailure, connectionErrorFrom, redactCredentials, redactError, type FailureContext } from './connection-error';

const ctx: FailureContext = { sslmode: 'prefer', hostname: 'db.example.com', port: 5432, timeoutMs: 10_000 };
const plain = { tls: false } as const;
const tls = { tls: true, check: 'none' } as const;

function serverError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyAttemptFailure', () => {
  it.each([
    [serverError('28P01', 'password authentication failed for user "u"'), plain, 'auth'],
    [serverError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "u", database "d", no encryption'), plain, 'tls_required'],
    [serverError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "u", database "d", SSL off'), plain, 'tls_required'],
    [serverError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "u", database "d", SSL encryption'), tls, 'auth'],
    [serverError('3D000', 'database "d" does not exist'), plain, 'database_not_found'],
    [serverError('53300', 'sorry, too many clients already'), plain, 'other'],
    [new Error('The server does not support SSL connections'), tls, 'tls_unsupported'],
    [nodeError('ERR_TLS_CERT_ALTNAME_INVALID'), tls, 'hostname_mismatch'],
    [nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), tls, 'certificate'],
    [nodeError('SELF_SIGNED_CERT_IN_CHAIN'), tls, 'certificate'],
    [nodeError('CERT_HAS_EXPIRED'), tls, 'certificate'],
    [nodeError('ECONNREFUSED'), plain, 'unreachable'],
    [nodeError('ENOTFOUND'), plain, 'unreachable'],
    [nodeError('ERR_SSL_WRONG_VERSION_NUMBER'), tls, 'tls_handshake'],
    [new Error('Connection terminated unexpectedly'), plain, 'other'],
  ] as const)('%s -> %s', (error, attempt, kind) => {
    expect(classifyAttemptFailure(error, attempt, ctx, false).kind).toBe(kind);
  });

  it('reports a timeout whatever the error', () => {
    expect(classifyAttemptFailure(new Error('timeout expired'), tls, ctx, true)).toMatchObject({ kind: 'timeout', reason: 'no answer within 10000 ms' });
  });

  it('names the certificate names on a host name mismatch', () => {
    const error = Object.assign(nodeError('ERR_TLS_CERT_ALTNAME_INVALID'), { cert: { subjectaltname: 'DNS:other.example.com' } });
    expect(classifyAttemptFailure(error, tls, ctx, false).reason).toBe(
      'the server certificate is not issued for "db.example.com" (it names DNS:other.example.com)',
    );
  });

  it('tells a disable user to choose a TLS mode', () => {
    const error = serverError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "u", database "d", no encryption');
    expect(classifyAttemptFailure(error, plain, { ...ctx, sslmode: 'disable' }, false).hint).toBe('choose sslmode=require, verify-ca or verify-full');
  });
});

describe('connectionErrorFrom', () => {
  const auth = classifyAttemptFailure(serverError('28P01', 'password authentication failed for user "u"'), tls, ctx, false);
  const hba = classifyAttemptFailure(
    serverError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "u", database "d", no encryption'),
    plain,
    ctx,
    false,
  );

  it('lets the credentials verdict outrank a later transport failure, and names both attempts', () => {
    const error = connectionErrorFrom([auth, hba], ctx, { username: 'connector', password: 'hunter2' });
    expect(error.kind).toBe('auth');
    expect(error.code).toBe('28P01');
    expect(error.message).toMatch(
      /^Cannot connect to db\.example\.com:5432 with sslmode=prefer: password authentication failed for user "u"; plain attempt: the server accepts only TLS/,
    );
    expect(error.message).toContain('Fix: check the username and password');
  });

  it('never carries the password, even when a server echoes it', () => {
    const echoed = classifyAttemptFailure(serverError('28000', 'role "hunter2" does not exist'), plain, ctx, false);
    const error = connectionErrorFrom([echoed], ctx, { username: 'connector', password: 'hunter2' });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('role "[redacted]" does not exist');
  });

  it('never carries the username of the secret, as the server quotes it', () => {
    const refused = classifyAttemptFailure(serverError('28P01', 'password authentication failed for user "lk_not_a_login"'), tls, ctx, false);
    const error = connectionErrorFrom([refused], ctx, { username: 'lk_not_a_login', password: 'x-y-z' });
    for (const text of [error.message, error.hint, error.stack ?? '']) expect(text).not.toContain('lk_not_a_login');
    expect(error.message).toContain('password authentication failed for user "[redacted]"');
  });
});

describe('redactError', () => {
  const credentials = { username: 'svc "odd"', password: 'p4ss', pendingPassword: 'n3xt' };

  it('takes the credentials out of the message, stack, detail and hint, and keeps the class and SQLSTATE', () => {
    const error = serverError('42501', 'permission denied to grant role "x" to "svc ""odd"""');
    Object.assign(error, { detail: 'Only roles with the ADMIN option on role "svc "odd"" may grant it.', hint: 'password n3xt or p4ss' });
    const redacted = redactError(error, credentials);
    expect(redacted).toBe(error);
    expect(redacted).toBeInstanceOf(DatabaseError);
    expect(redacted.code).toBe('42501');
    for (const text of [redacted.message, redacted.stack ?? '', redacted.detail ?? '', redacted.hint ?? '']) {
      expect(text).not.toMatch(/svc|p4ss|n3xt/);
    }
    expect(redacted.message).toBe('permission denied to grant role "x" to "[redacted]"');
  });

  it('leaves an unquoted word alone: a host or database may share the name', () => {
    expect(redactCredentials('Cannot connect to postgres:5432 as "postgres"', { username: 'postgres', password: 'pw-long' })).toBe(
      'Cannot connect to postgres:5432 as "[redacted]"',
    );
  });
});
