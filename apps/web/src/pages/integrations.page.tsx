import { Link } from 'react-router';
import { useIntegrations } from '../api/queries';
import { ErrorNote, Loading, PageHeader, StatusBadge, When } from '../components/ui';

/** Every integration with its live status (polled while one is INITIALIZING or REFRESHING). */
export function IntegrationsPage() {
  const integrations = useIntegrations();
  return (
    <>
      <PageHeader title="Integrations">
        <Link className="button button--primary" to="/catalog">
          Connect an integration
        </Link>
      </PageHeader>
      {integrations.isPending && <Loading what="integrations" />}
      <ErrorNote error={integrations.error} />
      {integrations.data?.length === 0 && (
        <p>
          No integration yet. Open the <Link to="/catalog">Catalog</Link> to connect one.
        </p>
      )}
      {integrations.data && integrations.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Integrations</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Connector</th>
                <th scope="col">Last test</th>
                <th scope="col">Rotation</th>
              </tr>
            </thead>
            <tbody>
              {integrations.data.map((i) => (
                <tr key={i.id}>
                  <th scope="row">
                    <Link to={`/integrations/${i.id}`}>{i.name}</Link>
                    <div className="muted">
                      {String(i.config.hostname)}:{String(i.config.port)}/{String(i.config.dbname)}
                    </div>
                  </th>
                  <td>
                    <StatusBadge status={i.status} />
                    {i.statusReason && <div className="muted reason">{i.statusReason}</div>}
                  </td>
                  <td>{i.connectorId}</td>
                  <td>
                    {i.lastTest ? (
                      <>
                        <When at={i.lastTest.testedAt} /> {i.lastTest.ok ? 'passed' : `${i.lastTest.checks.filter((c) => !c.ok).length} check(s) failed`}
                      </>
                    ) : (
                      'not tested'
                    )}
                  </td>
                  <td>
                    {i.credentialRotationDays ? `every ${i.credentialRotationDays} days` : 'off'}
                    <div className="muted">
                      last <When at={i.rotation.lastRotatedAt} empty="never" />
                      {i.rotation.nextDueAt && (
                        <>
                          , next <When at={i.rotation.nextDueAt} />
                        </>
                      )}
                    </div>
                    {i.rotation.lastError && <div className="field__error">{i.rotation.lastError}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
