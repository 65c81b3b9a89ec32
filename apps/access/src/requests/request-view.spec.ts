import { execFileSync } from 'node:child_process';
import { endAuditEntry, pendingDeadline, psqlCommand, requestWarnings } from './request-view';

describe('psqlCommand', () => {
  it('is a plain command for plain names', () => {
    expect(psqlCommand({ host: 'db.example.com', port: 5432, database: 'app', username: 'lk_ana_1a2b', sslmode: 'require' })).toBe(
      "psql 'host=db.example.com port=5432 dbname=app user=lk_ana_1a2b sslmode=require'",
    );
  });

  it('survives hostile names through the shell: the argument psql receives is the exact conninfo', () => {
    const command = psqlCommand({ host: 'h', port: 5432, database: `we'ird "db"; rm -rf / $(x) \\`, username: "lk_o'brien", sslmode: 'verify-full' });
    // Let a real shell parse the command with `printf` standing in for psql.
    const argument = execFileSync('sh', ['-c', command.replace(/^psql /, "printf '%s' ")]).toString();
    expect(argument).toBe(`host=h port=5432 dbname='we\\'ird "db"; rm -rf / $(x) \\\\' user='lk_o\\'brien' sslmode=verify-full`);
  });
});

describe('requestWarnings', () => {
  const group = (approverIds: string[], type: 'group' | 'OWNER' = 'group') => ({
    type,
    values: type === 'group' ? ['team'] : [],
    source: type === 'OWNER' ? 'integration owners' : null,
    approverIds,
    approverEmails: [],
    satisfiedBy: null,
  });
  const base = {
    status: 'PENDING' as const,
    createdAt: new Date('2026-12-01T12:00:00Z'),
    flowLimits: { maxDurationMinutes: 60, maxExtensions: 0, approverReasonRequired: false, pendingExpiryMinutes: 90 },
  };

  it('says that only an admin can decide when no group can, and when the request expires', () => {
    const [warning] = requestWarnings({ ...base, approvalMode: 'ANY_OF', approverGroups: [group([])] });
    expect(warning).toEqual({
      field: 'approverGroups.0',
      message: expect.stringContaining('only an admin can decide this request. Without a decision it expires at 2026-12-01T13:30:00.000Z.'),
    });
    expect(pendingDeadline(base)).toEqual(new Date('2026-12-01T13:30:00Z'));
  });

  it('ALL_OF: one empty group is enough to block; ANY_OF: other groups can still approve', () => {
    expect(requestWarnings({ ...base, approvalMode: 'ALL_OF', approverGroups: [group(['a']), group([], 'OWNER')] })[0].message).toContain(
      'only an admin can decide',
    );
    expect(requestWarnings({ ...base, approvalMode: 'ANY_OF', approverGroups: [group(['a']), group([])] })[0].message).toContain(
      'the other approver groups can still approve',
    );
  });

  it('is empty once decided, or when everyone resolves', () => {
    expect(requestWarnings({ ...base, status: 'EXPIRED', approvalMode: 'ANY_OF', approverGroups: [group([])] })).toEqual([]);
    expect(requestWarnings({ ...base, approvalMode: 'ANY_OF', approverGroups: [group(['a'])] })).toEqual([]);
    expect(pendingDeadline({ ...base, status: 'GRANTED' })).toBeNull();
  });
});

describe('endAuditEntry', () => {
  const base = { id: '0b7c9a52-3f1e-4d7a-9c1e-2a6f0e8d4b11', requesterEmail: 'ann@example.com', flowName: 'staff' };
  const ann = { type: 'user' as const, id: 'ann-id', email: 'ann@example.com' };

  it('names the end truthfully: expired by Latchkey, revoked by whoever revoked it, failed', () => {
    expect(endAuditEntry({ ...base, status: 'EXPIRED', revokedBy: null }, { grantId: 'g' })).toMatchObject({
      action: 'request.expired',
      actor: { type: 'system' },
      details: { status: 'EXPIRED', grantId: 'g' },
    });
    expect(endAuditEntry({ ...base, status: 'REVOKED', revokedBy: ann }, {})).toMatchObject({ action: 'request.revoked', actor: ann });
    expect(endAuditEntry({ ...base, status: 'FAILED', revokedBy: null }, { reason: 'x' })).toMatchObject({
      action: 'request.failed',
      actor: { type: 'system' },
    });
  });

  it('refuses a request that has not ended', () => {
    expect(() => endAuditEntry({ ...base, status: 'REVOKING', revokedBy: ann }, {})).toThrow(/has not ended/);
  });
});
