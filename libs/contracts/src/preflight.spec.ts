import { checksBlockingGrants, PreflightReport } from './preflight';

const report: PreflightReport = {
  ok: false,
  testedAt: '2026-12-01T12:00:00.000Z',
  connectorId: 'local',
  connected: true,
  tls: false,
  checks: [
    { id: 'connect', ok: true, detail: 'ok' },
    { id: 'create_roles', ok: true, detail: 'ok' },
    { id: 'grant_database', target: 'app', ok: true, detail: 'ok' },
    { id: 'grant_database', target: 'vault', ok: false, detail: 'no', fix: 'GRANT CONNECT ON DATABASE "vault" TO "c" WITH GRANT OPTION;' },
    { id: 'terminate_backends', ok: false, detail: 'no', fix: 'GRANT "pg_signal_backend" TO "c";' },
    { id: 'admin_option', ok: false, detail: 'no', fix: 'GRANT "r" TO "c" WITH ADMIN OPTION;' },
  ],
};

describe('checksBlockingGrants', () => {
  it('keeps the failed checks that stop grants in scope', () => {
    expect(checksBlockingGrants(report, { databases: ['app'], roles: false })).toEqual([]);
    expect(checksBlockingGrants(report, { databases: ['vault'], roles: false }).map((c) => c.target)).toEqual(['vault']);
    expect(checksBlockingGrants(report, { databases: 'any', roles: true }).map((c) => c.id)).toEqual(['grant_database', 'admin_option']);
  });

  it('counts a missing CREATEROLE against every grant', () => {
    const noRoles = { ...report, checks: [{ id: 'create_roles' as const, ok: false, detail: 'no', fix: 'ALTER ROLE "c" CREATEROLE;' }] };
    expect(checksBlockingGrants(noRoles, { databases: ['app'], roles: false })).toHaveLength(1);
  });
});
