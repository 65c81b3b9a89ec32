import { useEffect, useState } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { Page } from '../api/queries';
import { useSession } from '../api/session';
import { Dialog, ErrorNote, Loading, PageHeader, Pager, StatusBadge, usePages, When } from '../components/ui';
import { ApproverGroups } from './approver-groups';
import { countdown, duration, MOVING_STATUSES, OPEN_STATUSES, PORTAL_POLL_MS, requestWarnings, timeline } from './portal-words';
import type { MadeRequests, PortalRequest } from './portal-words';

const REVOCABLE = ['PENDING', 'APPROVED', 'GRANTED'];

/** The time now, ticking every second: for live countdowns. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function Countdown({ to }: { to: string }) {
  const now = useNow();
  return (
    <span className="countdown" title={to}>
      {countdown(to, now)} left
    </span>
  );
}

/** The person's own requests, open or closed, following their status without a reload. */
export function MyRequestsPage() {
  const session = useSession();
  const me = session.data?.user.id ?? '';
  const [closed, setClosed] = useState(false);
  const pages = usePages(String(closed));
  const requests = useQuery({
    queryKey: [...keys.requests, 'mine', me, pages.pageToken],
    queryFn: () => api<Page<PortalRequest>>('GET', '/access-requests', { query: { requesterId: me, pageSize: 100, pageToken: pages.pageToken } }),
    enabled: Boolean(me),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((r) => MOVING_STATUSES.includes(r.status)) ? PORTAL_POLL_MS : false),
  });
  const shown = requests.data?.items.filter((r) => OPEN_STATUSES.includes(r.status) !== closed) ?? [];
  const made = (useLocation().state as MadeRequests | null)?.made;

  return (
    <>
      <PageHeader title="My requests" description="Your access requests; their status follows without reloading.">
        <Link className="button button--primary" to="/portal/request">
          New request
        </Link>
      </PageHeader>
      {made && (
        <p className="alert alert--ok" role="status">
          {made} requests made, one per flow: each is approved on its own.
        </p>
      )}
      <div className="tabs" role="group" aria-label="Which requests">
        <button type="button" className="tabs__tab" aria-pressed={!closed} onClick={() => setClosed(false)}>
          Open
        </button>
        <button type="button" className="tabs__tab" aria-pressed={closed} onClick={() => setClosed(true)}>
          Closed
        </button>
      </div>
      <ErrorNote error={requests.error} />
      {requests.isPending && <Loading what="your requests" />}
      {requests.data && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{closed ? 'Closed requests' : 'Open requests'}</caption>
            <thead>
              <tr>
                <th scope="col">Access</th>
                <th scope="col">Flow</th>
                <th scope="col">Status</th>
                <th scope="col">Requested</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 && (
                <tr>
                  <td colSpan={5}>{closed ? 'No closed requests.' : 'No open requests.'}</td>
                </tr>
              )}
              {shown.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={`/portal/requests/${r.id}`}>
                      {r.items[0]?.permission} on {r.items.map((i) => i.path).join(', ')}
                    </Link>
                  </td>
                  <td>{r.flowName}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>
                    <When at={r.createdAt} />
                  </td>
                  <td>{r.status === 'GRANTED' && r.expiresAt ? <Countdown to={r.expiresAt} /> : <When at={r.endedAt ?? r.expiresAt} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="My requests"
            page={pages.page}
            hasNext={Boolean(requests.data.nextPageToken)}
            onPrevious={pages.previous}
            onNext={() => pages.next(requests.data?.nextPageToken)}
          />
        </div>
      )}
    </>
  );
}

export function usePortalRequest(id: string) {
  return useQuery({
    queryKey: keys.request(id),
    queryFn: () => api<PortalRequest>('GET', `/access-requests/${encodeURIComponent(id)}`),
    refetchInterval: (q) => (q.state.data && MOVING_STATUSES.includes(q.state.data.status) ? PORTAL_POLL_MS : false),
  });
}

export function MyRequestPage() {
  const { id = '' } = useParams();
  const request = usePortalRequest(id);
  if (request.isPending) return <Loading what="the request" />;
  if (request.error) return <ErrorNote error={request.error} />;
  return <MyRequest request={request.data} />;
}

function MyRequest({ request }: { request: PortalRequest }) {
  const id = request.id!;
  const queryClient = useQueryClient();
  const limits = request.flowLimits;
  const remaining = limits ? Math.max(0, limits.maxExtensions - request.extensions) : null;
  // The expiry warning's "Extend access" link (?extend=1) opens the dialog, while extending is possible.
  const [search] = useSearchParams();
  const [dialog, setDialog] = useState<'revoke' | 'extend' | null>(search.has('extend') && request.status === 'GRANTED' && remaining !== 0 ? 'extend' : null);
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState(String(Math.min(60, limits?.maxDurationMinutes ?? 60)));
  const settle = (next: PortalRequest) => {
    queryClient.setQueryData(keys.request(id), next);
    void queryClient.invalidateQueries({ queryKey: keys.requests });
    setDialog(null);
  };
  const revoke = useMutation({
    mutationFn: () => api<PortalRequest>('POST', `/access-requests/${id}/revoke`, { body: reason.trim() ? { reason: reason.trim() } : {} }),
    onSuccess: settle,
  });
  const extend = useMutation({
    mutationFn: () => api<PortalRequest>('POST', `/access-requests/${id}/extend`, { body: { minutes: Number(minutes) } }),
    onSuccess: settle,
  });
  const again = new URLSearchParams({ q: request.items[0]?.path ?? '' });

  return (
    <>
      <PageHeader
        title={`Request: ${request.items[0]?.permission} on ${request.items.map((i) => i.path).join(', ')}`}
        description={<Link to="/portal/requests">Back to my requests</Link>}
      >
        {request.status === 'GRANTED' && (
          <Link className="button button--primary" to={`/portal/requests/${id}/connect`}>
            Connect
          </Link>
        )}
        {request.status === 'GRANTED' && remaining !== 0 && (
          <button type="button" className="button" onClick={() => setDialog('extend')}>
            Extend
          </button>
        )}
        {REVOCABLE.includes(request.status) && (
          <button type="button" className="button button--danger" onClick={() => setDialog('revoke')}>
            Revoke
          </button>
        )}
        {!OPEN_STATUSES.includes(request.status) && (
          <Link className="button" to={`/portal/request?${again.toString()}`}>
            Request again
          </Link>
        )}
      </PageHeader>
      <p className="status-line" role="status" aria-live="polite">
        Status <StatusBadge status={request.status} /> {request.status === 'GRANTED' && request.expiresAt && <Countdown to={request.expiresAt} />}
        {(request.failureReason ?? request.statusReason) && <span className="muted"> {request.failureReason ?? request.statusReason}</span>}
      </p>
      {requestWarnings(request).map((w) => (
        <div key={w} className="alert" role="note">
          Warning: {w}
        </div>
      ))}
      <dl className="facts facts--wide">
        <dt>Flow</dt>
        <dd>{request.flowName}</dd>
        <dt>Duration</dt>
        <dd>{duration(request.durationMinutes)}</dd>
        <dt>Justification</dt>
        <dd>{request.justification ?? '—'}</dd>
        <dt>Approval</dt>
        <dd>{request.approvalMode === 'AUTOMATIC' ? 'automatic' : <ApproverGroups request={request} />}</dd>
        {request.status === 'PENDING' && request.pendingExpiresAt && (
          <>
            <dt>Waits until</dt>
            <dd>
              <When at={request.pendingExpiresAt} />
            </dd>
          </>
        )}
        <dt>Extensions</dt>
        <dd>
          {request.extensions} used{remaining !== null && `, ${remaining} remaining`}
        </dd>
      </dl>
      <section aria-labelledby="timeline-title" className="panel">
        <h2 id="timeline-title">Timeline</h2>
        <ol className="timeline">
          {timeline(request).map((e, i) => (
            <li key={i}>
              <When at={e.at} /> {e.what}
            </li>
          ))}
        </ol>
      </section>

      <Dialog open={dialog === 'revoke'} title="Revoke this access?" onClose={() => setDialog(null)}>
        <p>Your login loses the rights at once and its open sessions are ended.</p>
        <div className="field">
          <label htmlFor="revoke-reason">Reason (optional)</label>
          <textarea id="revoke-reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
        <ErrorNote error={revoke.error} title="Not revoked" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setDialog(null)}>
            Cancel
          </button>
          <button type="button" className="button button--danger" disabled={revoke.isPending} onClick={() => revoke.mutate()}>
            {revoke.isPending ? 'Revoking…' : 'Revoke access'}
          </button>
        </div>
      </Dialog>
      <Dialog open={dialog === 'extend'} title="Extend this access" onClose={() => setDialog(null)}>
        <p>
          {remaining === null ? 'The flow limits the number of extensions.' : `${remaining} extension${remaining === 1 ? '' : 's'} remaining.`}
          {limits && ` Each adds at most ${limits.maxDurationMinutes} minutes.`}
        </p>
        <div className="field">
          <label htmlFor="extend-minutes">Minutes to add</label>
          <input id="extend-minutes" inputMode="numeric" value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        </div>
        <ErrorNote error={extend.error} title="Not extended" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setDialog(null)}>
            Cancel
          </button>
          <button type="button" className="button button--primary" disabled={extend.isPending} onClick={() => extend.mutate()}>
            {extend.isPending ? 'Extending…' : 'Extend access'}
          </button>
        </div>
      </Dialog>
    </>
  );
}
