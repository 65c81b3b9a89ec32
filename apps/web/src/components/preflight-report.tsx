import type { PreflightCheck, PreflightReport } from '@latchkey/contracts';
import { Badge, CodeBlock, When } from './ui';

const CHECK_NAMES: Record<PreflightCheck['id'], string> = {
  connect: 'Connect with the chosen SSL mode',
  create_roles: 'Create roles',
  grant_database: 'Grant on a database',
  terminate_backends: 'End sessions of revoked logins',
  admin_option: 'Admin option on profile roles',
};

export const checkName = (check: PreflightCheck) => `${CHECK_NAMES[check.id]}${check.target ? `: ${check.target}` : ''}`;

/**
 * What the connector user may do, capability by capability, and the SQL that fixes what is
 * missing (run it as an administrator of the database, then test again). Each fix stays apart: a
 * database's fix must be run while connected to that database.
 */
export function PreflightReportView({ report, testing, onTestAgain }: { report: PreflightReport | null; testing: boolean; onTestAgain?: () => void }) {
  return (
    <section className="preflight" aria-labelledby="preflight-title" aria-busy={testing}>
      <div className="preflight__header">
        <h2 id="preflight-title">Connection test</h2>
        {onTestAgain && (
          <button type="button" className="button" onClick={onTestAgain} disabled={testing}>
            {testing ? 'Testing…' : 'Test again'}
          </button>
        )}
      </div>
      <p role="status" className="preflight__summary">
        {testing
          ? 'Testing the connection through the connector…'
          : !report
            ? 'Not tested yet.'
            : report.ok
              ? 'Every check passed: Latchkey can manage access on this database.'
              : `${report.checks.filter((c) => !c.ok).length} of ${report.checks.length} checks failed.`}
      </p>
      {report && (
        <>
          <dl className="facts">
            <dt>Tested</dt>
            <dd>
              <When at={report.testedAt} /> through connector {report.connectorId}
            </dd>
            <dt>Server</dt>
            <dd>{report.connected ? `PostgreSQL ${report.serverVersion ?? '?'}, ${report.tls ? 'TLS' : 'no TLS'}` : 'not reached'}</dd>
            {report.user && (
              <>
                <dt>Connector user</dt>
                <dd>
                  {report.user}
                  {report.superuser ? ' (superuser)' : ''}
                </dd>
              </>
            )}
          </dl>
          <ul className="checks" aria-label="Capabilities">
            {report.checks.map((check, i) => (
              <li key={`${check.id}-${check.target ?? ''}-${i}`} className={check.ok ? 'check check--ok' : 'check check--bad'}>
                <div className="check__head">
                  <Badge tone={check.ok ? 'ok' : 'bad'}>{check.ok ? 'Passed' : 'Failed'}</Badge>
                  <strong>{checkName(check)}</strong>
                </div>
                <p>{check.detail}</p>
                {!check.ok && check.fix && <CodeBlock caption={`Fix SQL for ${checkName(check)}`} code={check.fix} />}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
