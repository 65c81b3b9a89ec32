import { GrantError } from '@latchkey/pg-access';
import { isTerminationFailure } from './revocation.metrics';

describe('a revocation that could not end sessions, by code and privilege', () => {
  it('counts a missing pg_signal_backend and sessions that outlived the deadline', () => {
    expect(isTerminationFailure(new GrantError('missing_privilege', 'cannot end sessions', 'GRANT "pg_signal_backend" TO "c";', 'pg_signal_backend'))).toBe(
      true,
    );
    expect(isTerminationFailure(new GrantError('sessions_survive', 'sessions survive'))).toBe(true);
  });

  it('does not read the fix text: another missing privilege is not a termination failure, whatever its SQL says', () => {
    expect(
      isTerminationFailure(
        new GrantError('missing_privilege', 'cannot revoke', 'GRANT "pg_signal_backend" TO "c"; GRANT CONNECT ON DATABASE "d" TO "c";', 'CONNECT'),
      ),
    ).toBe(false);
    expect(isTerminationFailure(new GrantError('missing_privilege', 'cannot revoke', 'GRANT CONNECT ON DATABASE "d" TO "c";'))).toBe(false);
    expect(isTerminationFailure(new Error('pg_signal_backend'))).toBe(false);
  });
});
