import { useId, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { Page } from '../api/queries';
import { useSession } from '../api/session';
import { ErrorNote, Loading, PageHeader, When } from '../components/ui';
import { ApproverGroups } from './approver-groups';
import { duration, PORTAL_POLL_MS, requestWarnings, whyApprover } from './portal-words';
import type { PortalRequest } from './portal-words';

/** Requests waiting on the signed-in person, newest first; the list follows new requests by polling. */
export function ApprovalsPage() {
  const session = useSession();
  const me = session.data?.user.id ?? '';
  const pending = useQuery({
    queryKey: [...keys.requests, 'awaiting-me'],
    queryFn: () => api<Page<PortalRequest>>('GET', '/access-requests', { query: { awaitingMyApproval: true, status: 'PENDING', pageSize: 100 } }),
    refetchInterval: PORTAL_POLL_MS,
  });
  return (
    <>
      <PageHeader title="Pending approvals" description="Requests waiting for your decision. This list follows new requests without reloading." />
      <ErrorNote error={pending.error} />
      {pending.isPending && <Loading what="requests awaiting you" />}
      {pending.data && pending.data.items.length === 0 && <p>Nothing waits for you.</p>}
      <ul className="plain">
        {pending.data?.items.map((r) => (
          <li key={r.id}>
            <PendingRequest request={r} me={me} />
          </li>
        ))}
      </ul>
    </>
  );
}

function PendingRequest({ request, me }: { request: PortalRequest; me: string }) {
  const id = useId();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const reasonRequired = request.flowLimits?.approverReasonRequired ?? false;
  const reasonMissing = reasonRequired && !reason.trim();
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      api<PortalRequest>('POST', `/access-requests/${request.id}/${decision}`, { body: reason.trim() ? { reason: reason.trim() } : {} }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.requests }),
  });
  const own = request.requesterId === me;
  const click = (decision: 'approve' | 'reject') => {
    setTouched(true);
    if (!reasonMissing) decide.mutate(decision);
  };
  const title = `${request.requesterEmail}: ${request.items[0]?.permission} on ${request.items.map((i) => i.path).join(', ')}`;

  return (
    <article className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <dl className="facts">
        <dt>Requester</dt>
        <dd>{request.requesterEmail}</dd>
        <dt>Resources</dt>
        <dd>
          <ul className="plain">
            {request.items.map((i) => (
              <li key={`${i.resourceId}-${i.permission}`}>
                <span className="path">{i.path}</span> ({i.resourceType})
              </li>
            ))}
          </ul>
        </dd>
        <dt>Permission</dt>
        <dd>{[...new Set(request.items.map((i) => i.permission))].join(', ')}</dd>
        <dt>Duration</dt>
        <dd>{duration(request.durationMinutes)}</dd>
        <dt>Justification</dt>
        <dd>{request.justification ?? '—'}</dd>
        <dt>Requested</dt>
        <dd>
          <When at={request.createdAt} />
        </dd>
        <dt>Why you</dt>
        <dd>{whyApprover(request, me)}</dd>
        {request.approvalMode === 'ALL_OF' && (
          <>
            <dt>Approvals</dt>
            <dd>
              <ApproverGroups request={request} />
            </dd>
          </>
        )}
      </dl>
      {requestWarnings(request).map((w) => (
        <div key={w} className="alert" role="note">
          Warning: {w}
        </div>
      ))}
      {own ? (
        <p className="muted">This is your own request: someone else decides.</p>
      ) : (
        <>
          <div className={touched && reasonMissing ? 'field field--invalid' : 'field'}>
            <label htmlFor={`${id}-reason`}>Reason{reasonRequired ? '' : ' (optional)'}</label>
            <textarea
              id={`${id}-reason`}
              rows={2}
              value={reason}
              aria-invalid={touched && reasonMissing}
              aria-describedby={`${id}-reason-hint`}
              onChange={(e) => setReason(e.target.value)}
            />
            <p className="field__hint" id={`${id}-reason-hint`}>
              {touched && reasonMissing ? (
                <span className="field__error">Reason is required by the flow.</span>
              ) : reasonRequired ? (
                'The flow asks for a reason.'
              ) : (
                'Recorded in the audit log.'
              )}
            </p>
          </div>
          <ErrorNote error={decide.error} title="Not recorded" />
          <div className="row">
            <button type="button" className="button button--primary" disabled={decide.isPending} onClick={() => click('approve')}>
              Approve
            </button>
            <button type="button" className="button button--danger" disabled={decide.isPending} onClick={() => click('reject')}>
              Reject
            </button>
          </div>
        </>
      )}
    </article>
  );
}
