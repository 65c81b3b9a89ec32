import { execFileSync } from 'node:child_process';
import { pendingDeadline, psqlCommand, requestWarnings } from './request-view';

describe('psqlCommand', () => {
  it('is a plain command for plain names', () => {
    expect(psqlCommand({ host: 'db.example.com', port: 5432, database: 'app', username: 'lk_ana_1a2b', sslmode: 'require' })).toBe(
      "psql 'host=db.example.com port=5432 dbname=app user=lk_ana_1a2b sslmode=require'",
    );
  });

  it('survives hostile names through the shell: the argument psql receives is the exact conninfo', () => {
    const command = psqlCommand({ host: 'h', port: 5432, database: `we'ird "db"; rm -rf / $(x) \\`, username: 'lk_o\'brien', sslmode: 'verify-full' });
    // Let a real shell parse the command with `printf` standing in for psql.
    const argument = execFileSync('sh', ['-c', command.replace(/^psql /, "printf '%s' ")]).toString();
    expect(argument).toBe(`host=h port=5432 dbname='we\\'ird "db"; rm -rf / $(x) \\\\' user='lk_o\\'brien' sslmode=verify-full`);
  });
});

describe('requestWarnings', () => {
  const group = (approverIds: string[], type: 'group' | 'OWNER' = 'group') => ({ type, values: type === 'group' ? ['team'] : [], source: type === 'OWNER' ? 'integration owners' : null, approverIds, approverEmails: [], satisfiedBy: null });
  const base = { status: 'PENDING' as const, createdAt: new Date('2026-12-01T12:00:00Z'), flowLimits: { maxDurationMinutes: 60, maxExtensions: 0, approverReasonRequired: false, pendingExpiryMinutes: 90 } };

  it('says that only an admin can decide when no group can, and when the request expires', () => {
    const [warning] = requestWarnings({ ...base, approvalMode: 'ANY_OF', approverGroups: [group([])] });
    expect(warning).toEqual({ field: 'approverGroups.0', message: expect.stringContaining('only an admin can decide this request. Without a decision it expires at 2026-12-01T13:30:00.000Z.') });
    expect(pendingDeadline(base)).toEqual(new Date('2026-12-01T13:30:00Z'));
  });

  it('ALL_OF: one empty group is enough to block; ANY_OF: other groups can still approve', () => {
    expect(requestWarnings({ ...base, approvalMode: 'ALL_OF', approverGroups: [group(['a']), group([], 'OWNER')] })[0].message).toContain('only an admin can decide');
    expect(requestWarnings({ ...base, approvalMode: 'ANY_OF', approverGroups: [group(['a']), group([])] })[0].message).toContain('the other approver groups can still approve');
  });

  it('is empty once decided, or when everyone resolves', () => {
    expect(requestWarnings({ ...base, status: 'EXPIRED', approvalMode: 'ANY_OF', approverGroups: [group([])] })).toEqual([]);
    expect(requestWarnings({ ...base, approvalMode: 'ANY_OF', approverGroups: [group(['a'])] })).toEqual([]);
    expect(pendingDeadline({ ...base, status: 'GRANTED' })).toBeNull();
  });
});
