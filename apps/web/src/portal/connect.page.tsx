import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { AccessDetails } from '@latchkey/contracts';
import { api } from '../api/client';
import { keys } from '../api/queries';
import { CodeBlock, ErrorNote, Loading, PageHeader, SecretOnce, StatusBadge, When } from '../components/ui';
import { Countdown, usePortalRequest } from './my-requests.page';
import { connectionUri } from './portal-words';

/**
 * How to log in with a granted request. Reading the details hands over the password the first
 * time only, so the page asks before reading them while the password is still unseen; a
 * mutation (never refetched) keeps a refresh of the page from spending it behind the person's back.
 */
export function ConnectPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const request = usePortalRequest(id);
  const [details, setDetails] = useState<AccessDetails | null>(null);
  const read = useMutation({ mutationFn: () => api<AccessDetails>('GET', `/access-requests/${encodeURIComponent(id)}/access-details`), onSuccess: setDetails });
  const reset = useMutation({
    mutationFn: () => api<AccessDetails>('POST', `/access-requests/${encodeURIComponent(id)}/reset-credentials`),
    onSuccess: setDetails,
  });
  const viewed = Boolean(request.data?.passwordViewedAt);
  const granted = request.data?.status === 'GRANTED';

  // Once the password was viewed, reading the details spends nothing: show them straight away.
  useEffect(() => {
    if (granted && viewed && !details && read.isIdle) read.mutate();
  }, [granted, viewed, details, read]);
  useEffect(() => {
    if (details?.password) void queryClient.invalidateQueries({ queryKey: keys.request(id) });
  }, [details, id, queryClient]);

  if (request.isPending) return <Loading what="the request" />;
  if (request.error) return <ErrorNote error={request.error} />;
  const r = request.data;

  return (
    <>
      <PageHeader title="Connect" description={<Link to={`/portal/requests/${id}`}>Back to the request</Link>} />
      <p className="status-line" role="status">
        {r.items.map((i) => `${i.permission} on ${i.path}`).join(', ')}: <StatusBadge status={r.status} />{' '}
        {granted && r.expiresAt && <Countdown to={r.expiresAt} />}
      </p>
      {!granted && <p>Access details exist only while the request is GRANTED.</p>}
      {granted && !viewed && !details && (
        <div className="panel">
          <p>Showing the access details reveals your password. It is shown once: copy it before leaving the page.</p>
          <button type="button" className="button button--primary" disabled={read.isPending} onClick={() => read.mutate()}>
            {read.isPending ? 'Reading…' : 'Reveal password and access details'}
          </button>
        </div>
      )}
      <ErrorNote error={read.error} title="Could not read the access details" />
      {details && (
        <>
          {details.password ? (
            <SecretOnce label="Password" value={details.password} note="This password will not be shown again. Copy it now; if you lose it, reset it." />
          ) : (
            <div className="alert" role="note">
              The password was already viewed
              {details.passwordViewedAt ? (
                <>
                  {' '}
                  (<When at={details.passwordViewedAt} />)
                </>
              ) : null}
              , here or from the command line, and is not shown again. Lost it? Reset it for a new one.
            </div>
          )}
          <dl className="facts">
            <dt>Host</dt>
            <dd>{details.host}</dd>
            <dt>Port</dt>
            <dd>{details.port}</dd>
            <dt>Database</dt>
            <dd>{details.database}</dd>
            <dt>Username</dt>
            <dd>{details.username}</dd>
            <dt>SSL mode</dt>
            <dd>{details.sslmode}</dd>
            <dt>Until</dt>
            <dd>
              <When at={details.expiresAt} />
            </dd>
          </dl>
          <CodeBlock caption="psql command" code={details.psql} />
          <CodeBlock caption="Connection URI (without the password)" code={connectionUri(details)} />
          {details.customAccessDetails && (
            <section className="panel" aria-labelledby="custom-title">
              <h2 id="custom-title">From the administrators</h2>
              <p className="preview__text">{details.customAccessDetails}</p>
            </section>
          )}
          <div className="panel">
            <p>A reset makes a new password; the old one stops working.</p>
            <ErrorNote error={reset.error} title="Not reset" />
            <button type="button" className="button" disabled={reset.isPending} onClick={() => reset.mutate()}>
              {reset.isPending ? 'Resetting…' : 'Reset password'}
            </button>
          </div>
        </>
      )}
    </>
  );
}
