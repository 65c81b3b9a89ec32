import { Link } from 'react-router';
import { useCatalog } from '../api/queries';
import { ErrorNote, Loading, PageHeader } from '../components/ui';

const RESOURCE_NAMES: Record<string, string> = {
  'postgresql-database': 'databases',
  'postgresql-schema': 'schemas',
  'postgresql-table': 'tables, views and sequences',
  'postgresql-role': 'roles',
};

/** A tile per integration type; clicking one opens the Connect Integration wizard. */
export function CatalogPage() {
  const catalog = useCatalog();
  return (
    <>
      <PageHeader title="Catalog" description="Connect a system so that people can request time-boxed access to it." />
      {catalog.isPending && <Loading what="the catalog" />}
      <ErrorNote error={catalog.error} />
      <ul className="tiles">
        {catalog.data?.map((type) => (
          <li key={type.type} className="tile">
            <h2>
              <Link to={`/catalog/${encodeURIComponent(type.type)}/connect`} className="tile__link">
                {type.name}
              </Link>
            </h2>
            <p>{type.description}</p>
            <dl className="facts">
              <dt>Minimum connector version</dt>
              <dd>{type.minimumConnectorVersion}</dd>
              <dt>Discovers</dt>
              <dd>{type.resourceTypes.map((r) => RESOURCE_NAMES[r.type] ?? r.type).join(', ')}</dd>
            </dl>
          </li>
        ))}
      </ul>
    </>
  );
}
