import { useConnectors } from '../api/queries';
import { ErrorNote, Loading, PageHeader, StatusBadge, When } from '../components/ui';

export function ConnectorsPage() {
  const connectors = useConnectors(true);
  return (
    <>
      <PageHeader
        title="Connectors"
        description="Workers that reach your databases from their network. A connector with no heartbeat for a while is DISCONNECTED."
      />
      {connectors.isPending && <Loading what="connectors" />}
      <ErrorNote error={connectors.error} />
      {connectors.data && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Connectors</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Services</th>
              </tr>
            </thead>
            <tbody>
              {connectors.data.map((c) => (
                <tr key={c.id}>
                  <th scope="row">{c.id}</th>
                  <td>{c.version}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>
                    <When at={c.lastSeenAt} />
                  </td>
                  <td>{c.services.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
