import { AppException } from './app.exception';
import { ERROR_PERSISTENCE, ErrorCode, ErrorEnvelope, isPermanentError } from './errors';

describe('permanent and transient failures, by code', () => {
  it('calls a refusal of the request itself permanent', () => {
    for (const code of [
      ErrorCode.ValidationFailed,
      ErrorCode.NotFound,
      ErrorCode.Forbidden,
      ErrorCode.Conflict,
      ErrorCode.Unauthenticated,
      ErrorCode.InvalidCredentials,
      ErrorCode.LinkInvalid,
    ]) {
      expect([code, isPermanentError(code)]).toEqual([code, true]);
    }
  });

  it('calls an unavailable service, connector or target, a timeout, a throttle and an unknown failure transient', () => {
    for (const code of [ErrorCode.ServiceUnavailable, ErrorCode.ConnectorUnavailable, ErrorCode.Timeout, ErrorCode.TooManyAttempts, ErrorCode.Internal]) {
      expect([code, isPermanentError(code)]).toEqual([code, false]);
    }
  });

  it('decides every code, and only codes', () => {
    expect(Object.keys(ERROR_PERSISTENCE).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('does not read the message: the same code with any text is classified alike', () => {
    const a = new AppException(ErrorCode.ServiceUnavailable, 'permission denied for table x');
    const b = new AppException(ErrorCode.Conflict, 'Connection terminated unexpectedly; try again');
    expect([isPermanentError(a.code), isPermanentError(b.code)]).toEqual([false, true]);
  });
});

describe('AppException on the wire', () => {
  it('crosses as a valid envelope and comes back the same', () => {
    const sent = new AppException(ErrorCode.Conflict, 'Role "x" is not managed.', { reason: 'NOT_MANAGED', fix: 'DROP ROLE "x";' });
    const envelope = ErrorEnvelope.parse(sent.toEnvelope());
    expect(envelope).toEqual({ code: 'CONFLICT', message: 'Role "x" is not managed.', details: { reason: 'NOT_MANAGED', fix: 'DROP ROLE "x";' } });
    const back = AppException.fromEnvelope(envelope);
    expect(back).toBeInstanceOf(AppException);
    expect([back.code, back.message, back.details]).toEqual([sent.code, sent.message, sent.details]);
  });

  it('lists the issues of a validation failure in its message and details', () => {
    const e = AppException.validation([{ field: 'expiresAt', rule: 'must be in the future' }]);
    expect(e.toEnvelope()).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'The request is not valid. expiresAt: must be in the future',
      details: { issues: [{ field: 'expiresAt', rule: 'must be in the future' }] },
    });
  });
});
