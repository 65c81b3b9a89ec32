import { useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { AuditEntry, AuditVerifyReport } from '@latchkey/contracts';
import { api, apiUrl } from '../api/client';
import { keys } from '../api/queries';
import type { Page } from '../api/queries';
import { Badge, ErrorNote, Loading, PageHeader, Pager, usePages, When } from '../components/ui';
import { dayBound } from '../forms/form-state';

const TEXT_FILTERS: ReadonlyArray<[string, string]> = [
  ['action', 'Action (e.g. request.revoked)'],
  ['actorId', 'Actor id'],
  ['targetType', 'Target type'],
  ['targetId', 'Target id'],
];

/** The hash-chained audit log: filters, CSV export of every match, and the chain check. */
export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const value = (name: string) => params.get(name) ?? '';
  const filters = {
    action: value('action'),
    actorId: value('actorId'),
    targetType: value('targetType'),
    targetId: value('targetId'),
    from: dayBound(value('from'), false),
    to: dayBound(value('to'), true),
  };
  const pages = usePages(JSON.stringify(filters));
  const entries = useQuery({
    queryKey: [...keys.audit, filters, pages.pageToken],
    queryFn: () => api<Page<AuditEntry>>('GET', '/audit', { query: { ...filters, pageSize: 50, pageToken: pages.pageToken } }),
    placeholderData: keepPreviousData,
  });
  const setFilter = (name: string, next: string) => {
    const copy = new URLSearchParams(params);
    if (next) copy.set(name, next);
    else copy.delete(name);
    setParams(copy, { replace: true });
  };

  return (
    <>
      <PageHeader title="Audit" description="Every admin change and every request event, each entry chained to the one before by its hash.">
        <ChainBadge />
        <a className="button" href={apiUrl('/audit', { ...filters, format: 'csv' })} download="latchkey-audit.csv">
          Export CSV
        </a>
      </PageHeader>
      <form className="filters" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        {TEXT_FILTERS.map(([name, label]) => (
          <div className="field" key={name}>
            <label htmlFor={`audit-${name}`}>{label}</label>
            <input id={`audit-${name}`} value={value(name)} onChange={(e) => setFilter(name, e.target.value.trim())} />
          </div>
        ))}
        <div className="field">
          <label htmlFor="audit-from">From (day)</label>
          <input id="audit-from" type="date" value={value('from')} onChange={(e) => setFilter('from', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-to">To (day, included)</label>
          <input id="audit-to" type="date" value={value('to')} onChange={(e) => setFilter('to', e.target.value)} />
        </div>
      </form>
      <ErrorNote error={entries.error} />
      {entries.isPending && <Loading what="the audit log" />}
      {entries.data && (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Audit entries</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.items.map((e) => (
                  <tr key={e.id}>
                    <th scope="row">{e.seq}</th>
                    <td>
                      <When at={e.at} />
                    </td>
                    <td>{e.action}</td>
                    <td>{e.actor.type === 'system' ? 'Latchkey' : (e.actor.email ?? e.actor.id)}</td>
                    <td>
                      {e.targetName ?? e.targetId}
                      <div className="muted">{e.targetType}</div>
                    </td>
                    <td className="diff">{describeChange(e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {entries.data.items.length === 0 && <p role="status">No entry matches.</p>}
          <Pager
            label="Audit entries"
            page={pages.page}
            hasNext={Boolean(entries.data.nextPageToken)}
            onPrevious={pages.previous}
            onNext={() => pages.next(entries.data.nextPageToken)}
          />
        </>
      )}
    </>
  );
}

/** Field names of the diff and the details, short: the CSV export has everything. */
function describeChange(e: AuditEntry): string {
  const fields = Object.keys(e.diff ?? {});
  const details = Object.entries(e.details ?? {})
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k}: ${String(v)}`);
  return [fields.length ? `changed ${fields.join(', ')}` : '', ...details].filter(Boolean).join('; ') || '—';
}

function ChainBadge() {
  const verify = useQuery({ queryKey: keys.auditVerify, queryFn: () => api<AuditVerifyReport>('GET', '/audit/verify'), staleTime: 30_000 });
  if (verify.isPending) return <span role="status">Checking the chain…</span>;
  if (verify.error) return <ErrorNote error={verify.error} title="Chain check failed" />;
  const report = verify.data;
  return (
    <span role="status" className="chain">
      {report.ok ? (
        <Badge tone="ok">Chain healthy ({report.checked} entries checked)</Badge>
      ) : (
        <Badge tone="bad">
          Chain broken at entry #{report.firstBroken?.seq}: {report.firstBroken?.reason}
        </Badge>
      )}
    </span>
  );
}
