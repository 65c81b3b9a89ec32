import { Link, useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { AccessRequestStatus } from '@latchkey/contracts';
import type { AccessRequest } from '@latchkey/contracts';
import { api } from '../api/client';
import { keys, useFlows, useIntegrations, useUsers } from '../api/queries';
import type { Page } from '../api/queries';
import { ErrorNote, Loading, PageHeader, Pager, StatusBadge, usePages, When } from '../components/ui';
import { dayBound } from '../forms/form-state';

const FILTERS = ['status', 'requesterId', 'integrationId', 'flowId', 'from', 'to'] as const;

/** Every access request, newest first, with filters kept in the address (shareable). */
export function ActivityPage() {
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const pages = usePages(JSON.stringify(filters));
  const users = useUsers();
  const integrations = useIntegrations();
  const flows = useFlows();
  const query = {
    status: filters.status,
    requesterId: filters.requesterId,
    integrationId: filters.integrationId,
    flowId: filters.flowId,
    from: dayBound(filters.from, false),
    to: dayBound(filters.to, true),
    pageSize: 25,
    pageToken: pages.pageToken,
  };
  const requests = useQuery({
    queryKey: [...keys.requests, query],
    queryFn: () => api<Page<AccessRequest>>('GET', '/access-requests', { query }),
    placeholderData: keepPreviousData,
    // Requests in motion (approved, being revoked) settle within seconds: follow them.
    refetchInterval: (q) => (q.state.data?.items.some((r) => ['APPROVED', 'REVOKING'].includes(r.status)) ? 2_000 : false),
  });
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const integrationNames = new Map(integrations.data?.map((i) => [i.id, i.name]));

  return (
    <>
      <PageHeader title="Activity" description="Every access request: who asked for what, who decided, and how it ended." />
      <form className="filters" aria-label="Filter requests" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          id="status"
          label="Status"
          value={filters.status}
          onChange={setFilter}
          options={AccessRequestStatus.options.map((s) => [s, s])}
          all="Any status"
        />
        <FilterSelect
          id="requesterId"
          label="Requester"
          value={filters.requesterId}
          onChange={setFilter}
          options={(users.data ?? []).map((u) => [u.id, u.email])}
          all="Anyone"
        />
        <FilterSelect
          id="integrationId"
          label="Integration"
          value={filters.integrationId}
          onChange={setFilter}
          options={(integrations.data ?? []).map((i) => [i.id, i.name])}
          all="Any integration"
        />
        <FilterSelect
          id="flowId"
          label="Access flow"
          value={filters.flowId}
          onChange={setFilter}
          options={(flows.data ?? []).map((f) => [f.id, f.name])}
          all="Any flow"
        />
        <div className="field">
          <label htmlFor="filter-from">From (day)</label>
          <input id="filter-from" type="date" value={filters.from} onChange={(e) => setFilter('from', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="filter-to">To (day, included)</label>
          <input id="filter-to" type="date" value={filters.to} onChange={(e) => setFilter('to', e.target.value)} />
        </div>
      </form>
      <ErrorNote error={requests.error} />
      {requests.isPending && <Loading what="requests" />}
      {requests.data && (
        <>
          {requests.data.items.length === 0 && <p role="status">No request matches.</p>}
          {requests.data.items.length > 0 && (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Access requests</caption>
                <thead>
                  <tr>
                    <th scope="col">Requested</th>
                    <th scope="col">Requester</th>
                    <th scope="col">Access</th>
                    <th scope="col">Flow</th>
                    <th scope="col">Status</th>
                    <th scope="col">Ends</th>
                  </tr>
                </thead>
                <tbody>
                  {requests.data.items.map((r) => (
                    <tr key={r.id}>
                      <th scope="row">
                        <Link to={`/activity/${r.id}`} aria-label={`Request by ${r.requesterEmail} at ${new Date(r.createdAt).toLocaleString()}`}>
                          <When at={r.createdAt} />
                        </Link>
                      </th>
                      <td>{r.requesterEmail}</td>
                      <td>
                        {r.items.map((item) => (
                          <div key={`${item.resourceId}-${item.permission}`}>
                            {item.permission} on <span className="path">{item.path}</span>
                          </div>
                        ))}
                        <div className="muted">{integrationNames.get(r.integrationId)}</div>
                      </td>
                      <td>{r.flowName}</td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td>
                        <When at={r.endedAt ?? r.expiresAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            label="Requests"
            page={pages.page}
            hasNext={Boolean(requests.data.nextPageToken)}
            onPrevious={pages.previous}
            onNext={() => pages.next(requests.data.nextPageToken)}
          />
        </>
      )}
    </>
  );
}

function FilterSelect({
  id,
  label,
  value,
  onChange,
  options,
  all,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (name: string, value: string) => void;
  options: Array<[string, string]>;
  all: string;
}) {
  return (
    <div className="field">
      <label htmlFor={`filter-${id}`}>{label}</label>
      <select id={`filter-${id}`} value={value} onChange={(e) => onChange(id, e.target.value)}>
        <option value="">{all}</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}
