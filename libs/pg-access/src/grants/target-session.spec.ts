import { DatabaseError } from 'pg';
import { isTransient } from './target-session';

function dbError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

describe('isTransient', () => {
  it.each([
    ['40P01', 'deadlock detected'],
    ['40001', 'could not serialize access'],
    ['XX000', 'tuple concurrently updated'],
    ['XX000', 'tuple concurrently deleted'],
    ['55P03', 'canceling statement due to lock timeout'],
    ['42710', 'role "x" already exists'],
  ])('retries %s %s', (code, message) => {
    expect(isTransient(dbError(code, message))).toBe(true);
  });

  it('does not retry other errors', () => {
    expect(isTransient(dbError('XX000', 'cache lookup failed'))).toBe(false);
    expect(isTransient(dbError('42501', 'permission denied'))).toBe(false);
    expect(isTransient(new Error('tuple concurrently updated'))).toBe(false);
  });
});
