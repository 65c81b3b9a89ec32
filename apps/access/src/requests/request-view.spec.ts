import { execFileSync } from 'node:child_process';
import { endAuditEntry, psqlCommand } from './request-view';

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

describe('endAuditEntry', () => {
  const base = { id: '0b7c9a52-3f1e-4d7a-9c1e-2a6f0e8d4b11', requesterEmail: 'ann@example.com', flowName: 'staff' };
  const ann = { type: 'user' as const, id: 'ann-id', email: 'ann@example.com' };

  it('names the end truthfully: expired by Latchkey, revoked by whoever revoked it, failed', () => {
    expect(endAuditEntry({ ...base, status: 'EXPIRED', revokedBy: null }, { grantId: 'g' })).toMatchObject({ action: 'request.expired', actor: { type: 'system' }, details: { status: 'EXPIRED', grantId: 'g' } });
    expect(endAuditEntry({ ...base, status: 'REVOKED', revokedBy: ann }, {})).toMatchObject({ action: 'request.revoked', actor: ann });
    expect(endAuditEntry({ ...base, status: 'FAILED', revokedBy: null }, { reason: 'x' })).toMatchObject({ action: 'request.failed', actor: { type: 'system' } });
  });

  it('refuses a request that has not ended', () => {
    expect(() => endAuditEntry({ ...base, status: 'REVOKING', revokedBy: ann }, {})).toThrow(/has not ended/);
  });
});
