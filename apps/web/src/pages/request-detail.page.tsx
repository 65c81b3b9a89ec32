import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AccessRequest, AuditEntry } from '@latchkey/contracts';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { Page } from '../api/queries';
import { Dialog, ErrorNote, Loading, PageHeader, StatusBadge, When } from '../components/ui';

/** Statuses that move on by themselves: the page follows them. */
const MOVING = ['PENDING', 'APPROVED', 'GRANTED', 'REVOKING'];
const REVOCABLE = ['PENDING', 'APPROVED', 'GRANTED'];

export function RequestDetailPage() {
  const { id = '' } = useParams();
  const request = useQuery({
    queryKey: keys.request(id),
    queryFn: () => api<AccessRequest>('GET', `/access-requests/${encodeURIComponent(id)}`),
    refetchInterval: (q) => (q.state.data && MOVING.includes(q.state.data.status) ? 3_000 : false),
  });
  if (request.isPending) return <Loading what="the request" />;
  if (request.error) return <ErrorNote error={request.error} />;
  return <RequestDetail request={request.data} />;
}

function RequestDetail({ request }: { request: AccessRequest }) {
  const id = request.id!;
  const queryClient = useQueryClient();
  const [revoking, setRevoking] = useState(false);
  const [reason, setReason] = useState('');
  // The audit log holds the request's whole story (who did what, when), newest first.
  const timeline = useQuery({
    queryKey: [...keys.audit, { targetType: 'access-request', targetId: id, status: request.status }],
    queryFn: () =>
      api<Page<AuditEntry>>('GET', '/audit', { query: { targetType: 'access-request', targetId: id, pageSize: 100 } }).then((p) => [...p.items].reverse()),
  });
  const revoke = useMutation({
    mutationFn: () => api<AccessRequest>('POST', `/access-requests/${id}/revoke`, { body: reason.trim() ? { reason: reason.trim() } : {} }),
    onSuccess: (next) => {
      queryClient.setQueryData(keys.request(id), next);
      void queryClient.invalidateQueries({ queryKey: keys.requests });
      setRevoking(false);
    },
  });

  return (
    <>
      <PageHeader title={`Request by ${request.requesterEmail}`} description={<Link to="/activity">Back to Activity</Link>}>
        {REVOCABLE.includes(request.status) && (
          <button type="button" className="button button--danger" onClick={() => setRevoking(true)}>
            Revoke access
          </button>
        )}
      </PageHeader>
      <p className="status-line" role="status">
        Status <StatusBadge status={request.status} /> {request.statusReason && <span className="muted">{request.statusReason}</span>}
      </p>
      {request.warnings.length > 0 && (
        // Approvers who resolve to nobody: the request waits for an admin, who can settle it here.
        <div className="alert alert--error" role="alert" aria-label="Warnings">
          <ul className="plain">
            {request.warnings.map((warning) => (
              <li key={`${warning.field}-${warning.message}`}>{warning.message}</li>
            ))}
          </ul>
        </div>
      )}
      <dl className="facts facts--wide">
        <dt>Access</dt>
        <dd>
          <ul className="plain">
            {request.items.map((item) => (
              <li key={`${item.resourceId}-${item.permission}`}>
                {item.permission} on <span className="path">{item.path}</span> ({item.resourceType})
              </li>
            ))}
          </ul>
        </dd>
        <dt>Flow</dt>
        <dd>{request.flowName}</dd>
        <dt>Justification</dt>
        <dd>{request.justification ?? '—'}</dd>
        <dt>Duration</dt>
        <dd>
          {request.durationMinutes} minutes{request.extensions > 0 && `, extended ${request.extensions} time(s)`}
        </dd>
        <dt>Approval</dt>
        <dd>
          {request.approvalMode === 'AUTOMATIC'
            ? 'automatic'
            : `${request.approvalMode === 'ANY_OF' ? 'any of' : 'all of'}: ${request.approverGroups.map((g) => `${g.type === 'OWNER' ? 'owner' : g.type} ${g.approverEmails.join(', ') || g.values.join(', ')}${g.satisfiedBy ? ' (done)' : ''}`).join('; ')}`}
        </dd>
        <dt>Granted</dt>
        <dd>
          <When at={request.grantedAt} empty="not yet" />
        </dd>
        <dt>{request.endedAt ? 'Ended' : 'Expires'}</dt>
        <dd>
          <When at={request.endedAt ?? request.expiresAt} />
        </dd>
        <dt>Credentials</dt>
        <dd>
          {request.passwordViewedAt ? (
            <>
              viewed by the requester <When at={request.passwordViewedAt} />
            </>
          ) : (
            'not viewed'
          )}
        </dd>
      </dl>

      <section aria-labelledby="timeline-title" className="panel">
        <h2 id="timeline-title">Timeline</h2>
        <ErrorNote error={timeline.error} />
        {timeline.isPending && <Loading what="the timeline" />}
        <ol className="timeline">
          {timeline.data?.map((entry) => (
            <li key={entry.id}>
              <When at={entry.at} /> <strong>{entry.action.replace('request.', '')}</strong> by{' '}
              {entry.actor.type === 'system' ? 'Latchkey' : (entry.actor.email ?? entry.actor.id)}
              {typeof entry.details?.reason === 'string' && entry.details.reason && <span className="muted">: {entry.details.reason}</span>}
            </li>
          ))}
        </ol>
      </section>

      <Dialog open={revoking} title="Revoke this access?" onClose={() => setRevoking(false)}>
        <p>The login loses the granted rights at once and its open sessions are ended.</p>
        <div className="field">
          <label htmlFor="revoke-reason">Reason (optional, recorded in the audit log)</label>
          <textarea id="revoke-reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
        <ErrorNote error={revoke.error} title="Not revoked" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setRevoking(false)}>
            Cancel
          </button>
          <button type="button" className="button button--danger" disabled={revoke.isPending} onClick={() => revoke.mutate()}>
            {revoke.isPending ? 'Revoking…' : 'Revoke'}
          </button>
        </div>
      </Dialog>
    </>
  );
}
