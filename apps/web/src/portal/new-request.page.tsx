import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Permission, ResourceType } from '@latchkey/contracts';
import type { AccessRequest, DenialReason, RequestableFlow, RequestableItem } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { keys, useIntegrations } from '../api/queries';
import type { Page } from '../api/queries';
import { ErrorNote, Loading, PageHeader, Pager, usePages, useDebounced } from '../components/ui';
import { approvalWords, duration, requestWarnings } from './portal-words';
import type { MadeRequests, PortalRequest } from './portal-words';

interface Picked {
  resourceId: string;
  path: string;
  permissions: Permission[];
  flows: RequestableFlow[];
}

type DryRun = { ok: true; requests: PortalRequest[] } | { ok: false; message: string; denials: DenialReason[] };

/**
 * What the person may request, searchable by path, type, integration and tag; they pick resources, a permission, a duration and a
 * justification, see the dry run (flows, approvers, or why not), then submit.
 */
export function NewRequestPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [q, setQ] = useState(params.get('q') ?? '');
  const [type, setType] = useState('');
  const [tag, setTag] = useState('');
  const [integrationId, setIntegrationId] = useState('');
  const integrations = useIntegrations();
  const search = { q: useDebounced(q.trim()), type, tag: useDebounced(tag.trim()), integrationId };
  const pages = usePages(JSON.stringify(search));
  const requestable = useQuery({
    queryKey: ['me', 'requestable', search, pages.pageToken],
    queryFn: () => api<Page<RequestableItem>>('GET', '/me/requestable', { query: { ...search, pageSize: 25, pageToken: pages.pageToken } }),
    placeholderData: keepPreviousData,
  });
  const [picked, setPicked] = useState<Picked[]>([]);
  const [permission, setPermission] = useState<Permission | ''>('');
  const [minutes, setMinutes] = useState('60');
  const [justification, setJustification] = useState('');
  const [dryRun, setDryRun] = useState<DryRun | null>(null);

  const offered = Permission.options.filter((p) => picked.length > 0 && picked.every((r) => r.permissions.includes(p)));
  const chosenPermission: Permission | '' = permission && offered.includes(permission) ? permission : (offered[0] ?? '');
  const flowsFor = (r: Picked) => r.flows.filter((f) => f.permissions.includes(chosenPermission as Permission));
  const maxMinutes = picked.length ? Math.min(...picked.map((r) => Math.max(0, ...flowsFor(r).map((f) => f.maxDurationMinutes)))) : 0;
  const justificationRequired = picked.some((r) => flowsFor(r).length > 0 && flowsFor(r).every((f) => f.justificationRequired));
  const minutesNumber = Number(minutes);
  const durationError =
    !/^\d+$/.test(minutes) || minutesNumber < 1
      ? 'must be a whole number of minutes, at least 1'
      : maxMinutes && minutesNumber > maxMinutes
        ? `must be at most ${maxMinutes} (the longest the flows allow)`
        : null;
  const justificationError = justificationRequired && !justification.trim() ? 'is required by the flow' : null;
  const body = (dry: boolean) => ({
    items: picked.map((r) => ({ resourceId: r.resourceId, permission: chosenPermission })),
    durationMinutes: minutesNumber,
    ...(justification.trim() ? { justification: justification.trim() } : {}),
    dryRun: dry,
  });

  const check = useMutation({
    mutationFn: () => api<{ dryRun: boolean; requests: PortalRequest[] }>('POST', '/access-requests', { body: body(true) }),
    onSuccess: (answer) => setDryRun({ ok: true, requests: answer.requests }),
    onError: (err) => {
      if (err instanceof ApiError && err.status === 403 && Array.isArray(err.details.denials))
        setDryRun({ ok: false, message: err.message, denials: err.details.denials as DenialReason[] });
      else setDryRun(null);
    },
  });
  const submit = useMutation({
    mutationFn: () => api<{ requests: AccessRequest[] }>('POST', '/access-requests', { body: body(false) }),
    onSuccess: async (answer) => {
      await queryClient.invalidateQueries({ queryKey: keys.requests });
      // Several flows: one request each, decided on their own; My requests lists them and says how many were made.
      if (answer.requests.length === 1) navigate(`/portal/requests/${answer.requests[0].id}`);
      else navigate('/portal/requests', { state: { made: answer.requests.length } satisfies MadeRequests });
    },
  });
  const changed = () => {
    setDryRun(null);
    check.reset();
    submit.reset();
  };
  const toggle = (item: RequestableItem) => {
    changed();
    setPicked((now) =>
      now.some((p) => p.resourceId === item.resource.id)
        ? now.filter((p) => p.resourceId !== item.resource.id)
        : [...now, { resourceId: item.resource.id, path: item.resource.path, permissions: item.permissions, flows: item.flows }],
    );
  };
  const pathOf = (resourceId: string) => picked.find((p) => p.resourceId === resourceId)?.path ?? resourceId;
  const canCheck = picked.length > 0 && offered.length > 0 && !durationError && !justificationError;

  return (
    <>
      <PageHeader title="New request" description="Find what you may request, choose the access and how long, and see who will approve before you ask." />
      <form className="filters" role="search" aria-label="Find resources" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="req-q">Search resources</label>
          <input id="req-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="database/schema/table" />
        </div>
        <div className="field">
          <label htmlFor="req-type">Type</label>
          <select id="req-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">Any type</option>
            {ResourceType.options.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="req-integration">Integration</label>
          <select id="req-integration" value={integrationId} onChange={(e) => setIntegrationId(e.target.value)}>
            <option value="">Any integration</option>
            {(integrations.data ?? []).map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="req-tag">Tag (key or key=value)</label>
          <input id="req-tag" value={tag} onChange={(e) => setTag(e.target.value)} />
        </div>
      </form>

      <ErrorNote error={requestable.error} title="Could not list what you may request" />
      {requestable.isPending && <Loading what="what you may request" />}
      {requestable.data && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">What you may request</caption>
            <thead>
              <tr>
                <th scope="col">Pick</th>
                <th scope="col">Resource</th>
                <th scope="col">Permissions</th>
                <th scope="col">Longest</th>
                <th scope="col">Approval</th>
              </tr>
            </thead>
            <tbody>
              {requestable.data.items.length === 0 && (
                <tr>
                  <td colSpan={5}>Nothing matches. You see only what an access flow offers you.</td>
                </tr>
              )}
              {requestable.data.items.map((item) => (
                <tr key={item.resource.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Pick ${item.resource.path}`}
                      checked={picked.some((p) => p.resourceId === item.resource.id)}
                      onChange={() => toggle(item)}
                    />
                  </td>
                  <td>
                    <span className="path">{item.resource.path}</span> <span className="muted">({item.resource.type})</span>
                  </td>
                  <td>{item.permissions.join(', ')}</td>
                  <td>{duration(Math.max(...item.flows.map((f) => f.maxDurationMinutes)))}</td>
                  <td>
                    <ul className="plain">
                      {item.flows.map((f) => (
                        <li key={f.id}>
                          {f.name}: {f.approvalRequired ? f.approvers : 'automatic'}
                          {f.timeframe && (
                            <span className="muted">
                              {' '}
                              ({f.timeframe}
                              {f.availableNow ? '' : ', not now'})
                            </span>
                          )}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Requestable resources"
            page={pages.page}
            hasNext={Boolean(requestable.data.nextPageToken)}
            onPrevious={pages.previous}
            onNext={() => pages.next(requestable.data?.nextPageToken)}
          />
        </div>
      )}

      <section className="panel" aria-labelledby="ask-title">
        <h2 id="ask-title">Your request</h2>
        {picked.length === 0 ? (
          <p>Pick one or more resources above.</p>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (canCheck) check.mutate();
            }}
          >
            <ul className="plain" aria-label="Picked resources">
              {picked.map((p) => (
                <li key={p.resourceId}>
                  <span className="path">{p.path}</span>{' '}
                  <button
                    type="button"
                    className="button button--small button--quiet"
                    aria-label={`Remove ${p.path}`}
                    onClick={() => {
                      changed();
                      setPicked((now) => now.filter((x) => x.resourceId !== p.resourceId));
                    }}
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ul>
            <div className="field">
              <label htmlFor="req-permission">Permission</label>
              <select
                id="req-permission"
                value={chosenPermission}
                onChange={(e) => {
                  changed();
                  setPermission(e.target.value as Permission);
                }}
                aria-describedby="req-permission-hint"
              >
                {offered.length === 0 && <option value="">No permission is offered on all of them</option>}
                {offered.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
              <p className="field__hint" id="req-permission-hint">
                Only permissions offered on every picked resource.
              </p>
            </div>
            <div className={durationError ? 'field field--invalid' : 'field'}>
              <label htmlFor="req-minutes">Duration (minutes)</label>
              <input
                id="req-minutes"
                inputMode="numeric"
                value={minutes}
                aria-invalid={Boolean(durationError)}
                aria-describedby="req-minutes-hint"
                onChange={(e) => {
                  changed();
                  setMinutes(e.target.value);
                }}
              />
              <p className="field__hint" id="req-minutes-hint">
                {durationError ? <span className="field__error">Duration {durationError}. </span> : null}
                {maxMinutes ? `At most ${maxMinutes} minutes (${duration(maxMinutes)}).` : ''}
              </p>
            </div>
            <div className={justificationError && justification ? 'field field--invalid' : 'field'}>
              <label htmlFor="req-justification">Justification{justificationRequired ? '' : ' (optional)'}</label>
              <textarea
                id="req-justification"
                rows={3}
                maxLength={2000}
                value={justification}
                aria-describedby="req-justification-hint"
                onChange={(e) => {
                  changed();
                  setJustification(e.target.value);
                }}
              />
              <p className="field__hint" id="req-justification-hint">
                {justificationRequired ? 'The flow asks why you need this access.' : 'Why you need this access, for the approvers.'}
              </p>
            </div>
            <div className="row">
              <button type="submit" className="button" disabled={!canCheck || check.isPending}>
                {check.isPending ? 'Checking…' : 'Check who approves'}
              </button>
            </div>
          </form>
        )}
        {check.error && !(check.error instanceof ApiError && check.error.status === 403) && (
          <ErrorNote error={check.error} title="Could not check the request" />
        )}
        {dryRun && !dryRun.ok && (
          <div className="alert alert--error" role="alert" aria-labelledby="denied-title">
            <h3 id="denied-title">This request would be refused</h3>
            <ul>
              {dryRun.denials.map((d) => (
                <li key={`${d.resourceId}-${d.permission}`}>
                  <span className="path">{pathOf(d.resourceId)}</span> ({d.permission}): {d.reasons.join('; ')}
                </li>
              ))}
            </ul>
          </div>
        )}
        {dryRun && dryRun.ok && (
          <div className="alert alert--ok" role="status" aria-labelledby="dry-title">
            <h3 id="dry-title">{dryRun.requests.length > 1 ? `This becomes ${dryRun.requests.length} requests, one per flow` : 'This request can be made'}</h3>
            <ul aria-label="Requests, one per flow">
              {dryRun.requests.map((r) => (
                <li key={`${r.flowId}/${r.integrationId}`}>
                  Flow <strong>{r.flowName}</strong> covers {r.items.map((i) => i.path).join(', ')}: {approvalWords(r)}.
                  {requestWarnings(r).map((w) => (
                    <p key={w} className="reason">
                      Warning: {w}
                    </p>
                  ))}
                </li>
              ))}
            </ul>
            <ErrorNote error={submit.error} title="Not requested" />
            <button type="button" className="button button--primary" disabled={submit.isPending} onClick={() => submit.mutate()}>
              {submit.isPending ? 'Requesting…' : 'Request access'}
            </button>
          </div>
        )}
        <p>
          <Link to="/portal/requests">My requests</Link>
        </p>
      </section>
    </>
  );
}
