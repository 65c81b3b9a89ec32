import { toAppException } from '@latchkey/messaging';
import { TargetConnectionError } from '../connection-error';
import { GrantError } from './grant-error';

/** The shared mapper recognises this library's errors by name and fields (it may not import the engine): held to the real classes here. */
describe('grant and target connection errors on the wire', () => {
  it('a missing privilege reaches the caller with its fix SQL', () => {
    const fix = 'GRANT "pg_signal_backend" TO "connector";';
    expect(toAppException(new GrantError('missing_privilege', 'The connector cannot end the sessions of "p_ann"', fix)).toEnvelope()).toEqual({
      code: 'CONFLICT',
      message: `The connector cannot end the sessions of "p_ann". To fix it, an administrator runs on the target:\n${fix}`,
      details: { reason: 'MISSING_PRIVILEGE', fix },
    });
  });

  it('every grant error code has its wire code', () => {
    const codes = (['invalid_item', 'not_found', 'not_managed', 'name_conflict', 'missing_privilege', 'sessions_survive'] as const).map(
      (c) => toAppException(new GrantError(c, 'x')).code,
    );
    expect(codes).toEqual(['VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT', 'CONFLICT', 'CONFLICT', 'SERVICE_UNAVAILABLE']);
  });

  it('a refused connection keeps its hint; an unreachable target is retryable', () => {
    expect(toAppException(new TargetConnectionError('auth', 'password authentication failed', 'check the password', '28P01')).toEnvelope()).toEqual({
      code: 'CONFLICT',
      message: 'password authentication failed',
      details: { reason: 'TARGET_CONNECTION_REFUSED', kind: 'auth', hint: 'check the password' },
    });
    expect(toAppException(new TargetConnectionError('unreachable', 'cannot reach db:5432 (ECONNREFUSED)', 'check the host', 'ECONNREFUSED')).details).toEqual({
      reason: 'TARGET_UNAVAILABLE',
      retryAfterSeconds: 5,
    });
  });
});
