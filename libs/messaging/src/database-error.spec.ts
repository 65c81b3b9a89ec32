import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { classifyDatabaseError, databaseErrorCode } from './database-error';

const serverError = (code: string, message = 'server said no') => Object.assign(new DatabaseError(message, message.length, 'error'), { code });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('classifyDatabaseError', () => {
  it.each([
    ['57P03', 'the database system is not yet accepting connections'],
    ['57P03', 'the database system is starting up'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection because of crash of another server process'],
    ['08006', 'connection failure'],
    ['08001', 'could not connect'],
  ])('a server error %s (%s) is a lost connection', (code, message) => {
    expect(classifyDatabaseError(serverError(code, message))).toBe('connection');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN'])('a socket error %s is a lost connection', (code) => {
    expect(classifyDatabaseError(socketError(code))).toBe('connection');
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
  ])('node-pg\'s "%s" is a lost connection', (message) => {
    expect(classifyDatabaseError(new Error(message))).toBe('connection');
  });

  it.each([
    ['40001', 'could not serialize access due to concurrent update'],
    ['40P01', 'deadlock detected'],
    ['55P03', 'canceling statement due to lock timeout'],
    ['53300', 'sorry, too many clients already'],
    ['53300', 'too many connections for database "app"'],
    ['57014', 'canceling statement due to statement timeout'],
    ['XX000', 'tuple concurrently updated'],
  ])('%s (%s) is transient', (code, message) => {
    expect(classifyDatabaseError(serverError(code, message))).toBe('transient');
  });

  it.each([
    ['42501', 'permission denied for table orders'],
    ['28P01', 'password authentication failed for user "x"'],
    ['28000', 'role "x" is not permitted to log in'],
    ['3D000', 'database "nope" does not exist'],
    ['42601', 'syntax error at or near "SELEC"'],
    ['23505', 'duplicate key value violates unique constraint'],
    ['XX000', 'cache lookup failed'],
  ])('%s (%s) is permanent', (code, message) => {
    expect(classifyDatabaseError(serverError(code, message))).toBe('permanent');
  });

  it("is permanent for errors that are not the database's, and for DNS names that do not exist", () => {
    expect(classifyDatabaseError(new Error('Cannot read properties of undefined'))).toBe('permanent');
    expect(classifyDatabaseError(socketError('ENOTFOUND'))).toBe('permanent');
    expect(classifyDatabaseError(undefined)).toBe('permanent');
    expect(classifyDatabaseError('a string')).toBe('permanent');
  });

  it("looks through TypeORM's QueryFailedError and an error's cause", () => {
    const wrapped = new QueryFailedError('SELECT 1', [], serverError('57P01', 'terminating connection due to administrator command'));
    expect(databaseErrorCode(wrapped)).toBe('57P01');
    expect(classifyDatabaseError(wrapped)).toBe('connection');
    expect(classifyDatabaseError(new QueryFailedError('SELECT 1', [], serverError('42P01', 'relation "x" does not exist')))).toBe('permanent');
    expect(classifyDatabaseError(new Error('query failed', { cause: socketError('ECONNREFUSED') }))).toBe('connection');
    expect(classifyDatabaseError(new Error('query failed', { cause: new Error('Connection terminated unexpectedly') }))).toBe('connection');
  });
});
