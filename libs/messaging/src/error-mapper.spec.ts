import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception.js';
import { DatabaseError } from 'pg';
import { TimeoutError } from 'rxjs';
import { AppException, ErrorCode, isPermanentError } from '@latchkey/contracts';
import { SecretResolutionError, SecretsErrorCode } from '@latchkey/secrets';
import { errorEnvelopeOf, mapError, toAppException, withFix } from './error-mapper';

const serverError = (code: string, message = 'server said no') => Object.assign(new DatabaseError(message, message.length, 'error'), { code });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
/** Stand-ins shaped as pg-access's errors are (its own spec maps the real classes). */
const grantError = (code: string, message: string, fix?: string) => Object.assign(new Error(message), { name: 'GrantError', code, fix });
const connectionError = (kind: string, code: string | undefined, message: string, hint: string) =>
  Object.assign(new Error(message), { name: 'TargetConnectionError', kind, code, hint });

describe('a control database failure that passes', () => {
  it('answers a retryable 503 the client can tell apart, for a lost control database and a busy one', () => {
    expect(errorEnvelopeOf(socketError('ECONNREFUSED'), { database: 'control' })).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The control database cannot be reached right now; try again shortly.',
      details: { reason: 'CONTROL_DATABASE_UNAVAILABLE', retryAfterSeconds: 5 },
    });
    expect(errorEnvelopeOf(serverError('40P01', 'deadlock detected'), { database: 'control' }).details).toEqual({
      reason: 'CONTROL_DATABASE_BUSY',
      retryAfterSeconds: 5,
    });
    expect(mapError(socketError('ECONNREFUSED'), { database: 'control' }).origin).toBe('database');
  });

  it('leaves a permanent database error and a bug an internal error that leaks nothing', () => {
    for (const err of [serverError('42501', 'permission denied for table secrets'), new TypeError('x is not a function')]) {
      expect(mapError(err, { database: 'control' })).toEqual({ exception: expect.any(AppException), origin: 'unknown' });
      expect(errorEnvelopeOf(err, { database: 'control' })).toEqual({ code: 'INTERNAL', message: 'Internal error; see the service log.' });
    }
  });

  it('names a target, with its reason, when the database is a target', () => {
    expect(errorEnvelopeOf(socketError('ECONNREFUSED'), { database: 'target' })).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The target database is unavailable for now; try again shortly: connect ECONNREFUSED 127.0.0.1:5432',
      details: { reason: 'TARGET_UNAVAILABLE', retryAfterSeconds: 5 },
    });
  });

  it('is not read as a database error where there is no database (the gateway)', () => {
    expect(errorEnvelopeOf(socketError('ECONNREFUSED'), { log: 'gateway' })).toEqual({ code: 'INTERNAL', message: 'Internal error; see the gateway log.' });
  });
});

describe('errors already answered', () => {
  it('keeps an AppException as it is, and turns an envelope back into one', () => {
    const thrown = new AppException(ErrorCode.NotFound, 'No grant with id x.');
    expect(toAppException(thrown)).toBe(thrown);
    const back = toAppException({ code: 'CONFLICT', message: 'taken', details: { reason: 'R' } }, { request: { subject: 's', timeoutMs: 1 } });
    expect([back, back.code, back.message, back.details]).toEqual([expect.any(AppException), 'CONFLICT', 'taken', { reason: 'R' }]);
  });
});

describe('a NATS request that got no answer', () => {
  const request = { subject: 'provisioning.{connectorId}.grants.create', timeoutMs: 1500 };

  it('says nobody serves the subject, naming the connector when one was asked', () => {
    const none = new EmptyResponseException('catalog.integrations.get');
    expect(errorEnvelopeOf(none, { request: { subject: 'catalog.integrations.get', timeoutMs: 1500 } })).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'No service is serving catalog.integrations.get: is it running?',
    });
    expect(errorEnvelopeOf(none, { request: { ...request, connectorId: 'east' } })).toEqual({
      code: 'CONNECTOR_UNAVAILABLE',
      message: `Connector "east" is not serving ${request.subject}: is it running?`,
    });
  });

  it('tells a timeout and a failed connection apart by class, not by words in the message', () => {
    expect(errorEnvelopeOf(new TimeoutError(), { request })).toEqual({ code: 'TIMEOUT', message: `No answer on ${request.subject} within 1500 ms.` });
    expect(errorEnvelopeOf(new Error('503 no responders, no subscribers'), { request })).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: `Messaging failed on ${request.subject}: 503 no responders, no subscribers`,
    });
    expect(mapError(new Error('Connection closed'), { request }).origin).toBe('transport');
  });
});

describe('library errors', () => {
  it('carries the fix SQL of a missing privilege in the message and the details', () => {
    const fix = 'GRANT "pg_signal_backend" TO "connector";';
    const mapped = mapError(grantError('missing_privilege', 'The connector cannot end the sessions of "p_ann"', fix));
    expect(mapped.origin).toBe('library');
    expect(mapped.exception.toEnvelope()).toEqual({
      code: 'CONFLICT',
      message: `The connector cannot end the sessions of "p_ann". To fix it, an administrator runs on the target:\n${fix}`,
      details: { reason: 'MISSING_PRIVILEGE', fix },
    });
    expect(mapped.exception.message).toBe(withFix('The connector cannot end the sessions of "p_ann"', fix));
  });

  it('gives each grant error a code whose persistence matches it: refusals are permanent, surviving sessions pass', () => {
    const codes = ['invalid_item', 'not_found', 'not_managed', 'name_conflict', 'missing_privilege', 'sessions_survive'].map(
      (c) => toAppException(grantError(c, 'x')).code,
    );
    expect(codes).toEqual(['VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT', 'CONFLICT', 'CONFLICT', 'SERVICE_UNAVAILABLE']);
    expect(codes.map(isPermanentError)).toEqual([true, true, true, true, true, false]);
    expect(toAppException(grantError('sessions_survive', 'x')).details).toEqual({ reason: 'SESSIONS_SURVIVE', retryAfterSeconds: 5 });
  });

  it('answers a target that refuses the connection with its hint, and one out of reach as retryable', () => {
    const refused = connectionError(
      'auth',
      '28P01',
      'Cannot connect to db:5432 with sslmode=prefer: password authentication failed. Fix: check the username.',
      'check the username',
    );
    expect(errorEnvelopeOf(refused)).toEqual({
      code: 'CONFLICT',
      message: refused.message,
      details: { reason: 'TARGET_CONNECTION_REFUSED', kind: 'auth', hint: 'check the username' },
    });
    const unreachable = connectionError('unreachable', 'ECONNREFUSED', 'Cannot connect to db:5432: cannot reach db:5432 (ECONNREFUSED).', 'check the host');
    expect(errorEnvelopeOf(unreachable)).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: `The target database is unavailable for now; try again shortly: ${unreachable.message}`,
      details: { reason: 'TARGET_UNAVAILABLE', retryAfterSeconds: 5 },
    });
  });

  it('answers a secret this process cannot use with what to fix, naming no secret', () => {
    const err = new SecretResolutionError(SecretsErrorCode.EnvVarMissing, 'LATCHKEY_SECRET_EAST is not set on the connector.');
    expect(mapError(err)).toEqual({ exception: expect.any(AppException), origin: 'library' });
    expect(errorEnvelopeOf(err)).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'LATCHKEY_SECRET_EAST is not set on the connector.',
      details: { reason: 'SECRET_ENV_VAR_MISSING', retryAfterSeconds: 5 },
    });
  });

  it('leaves an error that only looks like a library one (an unknown code) an internal error', () => {
    expect(errorEnvelopeOf(grantError('something_new', 'x'))).toEqual({ code: 'INTERNAL', message: 'Internal error; see the service log.' });
  });
});
