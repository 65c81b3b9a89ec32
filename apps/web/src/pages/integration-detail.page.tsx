import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { DriftReport, Integration, PreflightReport, RotationState } from '@latchkey/contracts';
import { api } from '../api/client';
import { keys, useIntegration } from '../api/queries';
import { PreflightReportView } from '../components/preflight-report';
import { Dialog, ErrorNote, Loading, PageHeader, StatusBadge, When } from '../components/ui';

export function IntegrationDetailPage() {
  const { id = '' } = useParams();
  const integration = useIntegration(id);
  if (integration.isPending) return <Loading what="the integration" />;
  if (integration.error) return <ErrorNote error={integration.error} />;
  return <IntegrationDetail integration={integration.data} />;
}

function IntegrationDetail({ integration }: { integration: Integration }) {
  const id = integration.id;
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const refreshOne = (next?: Integration) => {
    if (next) queryClient.setQueryData(keys.integration(id), next);
    else void queryClient.invalidateQueries({ queryKey: keys.integration(id) });
    void queryClient.invalidateQueries({ queryKey: keys.integrations, exact: true });
  };

  const test = useMutation({
    mutationFn: () => api<{ integration: Integration; report: PreflightReport }>('POST', `/integrations/${id}/test`),
    onSuccess: ({ integration: next }) => refreshOne(next),
  });
  const refresh = useMutation({
    mutationFn: () => api<{ jobId: string }>('POST', `/integrations/${id}/refresh`),
    onSuccess: () => {
      setNotice('Discovery started: the status shows REFRESHING until it is done.');
      refreshOne();
      void queryClient.invalidateQueries({ queryKey: keys.resources });
    },
  });
  const rotate = useMutation({
    mutationFn: () => api<{ result: string; detail?: string; rotation: RotationState }>('POST', `/integrations/${id}/rotate`),
    onSuccess: (answer) => {
      setNotice(
        answer.result === 'failed'
          ? `Rotation failed: ${answer.detail ?? 'see the rotation state'}. The working password is untouched.`
          : `Credentials ${answer.result}.`,
      );
      refreshOne();
    },
  });
  const error = test.error ?? refresh.error ?? rotate.error;
  const c = integration.config;

  return (
    <>
      <PageHeader title={integration.name} description={`${integration.type} on ${String(c.hostname)}:${String(c.port)}, database ${String(c.dbname)}`}>
        <button type="button" className="button" onClick={() => test.mutate()} disabled={test.isPending}>
          {test.isPending ? 'Testing…' : 'Test connection'}
        </button>
        <button type="button" className="button" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
          Refresh discovery now
        </button>
        <button type="button" className="button" onClick={() => rotate.mutate()} disabled={rotate.isPending || integration.secret.store !== 'builtin'}>
          {rotate.isPending ? 'Rotating…' : 'Rotate credentials now'}
        </button>
        <Link className="button" to={`/integrations/${id}/edit`}>
          Edit
        </Link>
        <button type="button" className="button button--danger" onClick={() => setDeleting(true)}>
          Delete
        </button>
      </PageHeader>
      {notice && (
        <p className="alert alert--ok" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={error} title="That did not work" />

      <dl className="facts facts--wide">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={integration.status} /> {integration.statusReason}
        </dd>
        <dt>Connector</dt>
        <dd>{integration.connectorId}</dd>
        <dt>SSL mode</dt>
        <dd>{String(c.sslmode)}</dd>
        <dt>Discovers</dt>
        <dd>{integration.connectedResourceTypes.join(', ')}</dd>
        <dt>Secret</dt>
        <dd>
          {integration.secret.store === 'builtin'
            ? 'builtin (encrypted; never shown)'
            : integration.secret.store === 'env'
              ? `environment variables ${integration.secret.usernameVar} / ${integration.secret.passwordVar}`
              : `file ${integration.secret.path}`}
        </dd>
        <dt>Credential rotation</dt>
        <dd>
          {integration.credentialRotationDays ? `every ${integration.credentialRotationDays} days` : 'off'}; last rotated{' '}
          <When at={integration.rotation.lastRotatedAt} empty="never" />, next due <When at={integration.rotation.nextDueAt} empty="not planned" />
          {integration.rotation.lastResult && `, last run ${integration.rotation.lastResult}`}
          {integration.rotation.pending && ', a new password is pending'}
          {integration.rotation.lastError && <div className="field__error">{integration.rotation.lastError}</div>}
        </dd>
        <dt>Owners</dt>
        <dd>
          {integration.integrationOwners.map((o) => `${o.attribute}: ${o.values.join(', ')}`).join('; ') || 'none'}
          {integration.resourceOwnerMappings.length > 0 &&
            ` (resource owners: ${integration.resourceOwnerMappings.map((m) => `tag ${m.tagKey} -> ${m.attribute}`).join(', ')})`}
        </dd>
        <dt>Custom access details</dt>
        <dd className="preview__text">{integration.customAccessDetails ?? 'none'}</dd>
        <dt>Resources</dt>
        <dd>
          <Link to={`/resources?integrationId=${id}`}>Discovered resources</Link>
        </dd>
      </dl>

      <PreflightReportView report={integration.lastTest} testing={test.isPending} onTestAgain={() => test.mutate()} />
      <Drift id={id} />
      <DeleteIntegration integration={integration} open={deleting} onClose={() => setDeleting(false)} />
    </>
  );
}

/** Managed logins without a grant, and grants missing on the target; repaired on request. */
function Drift({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const [asked, setAsked] = useState(false);
  const drift = useQuery({ queryKey: keys.drift(id), queryFn: () => api<DriftReport>('GET', `/integrations/${id}/drift`), enabled: asked });
  const repair = useMutation({
    mutationFn: () => api<DriftReport>('POST', `/integrations/${id}/drift/repair`),
    onSuccess: (report) => queryClient.setQueryData(keys.drift(id), report),
  });
  const report = drift.data;
  const clean = report && report.orphanRoles.length === 0 && report.missingGrants.length === 0;
  return (
    <section aria-labelledby="drift-title" className="panel">
      <div className="preflight__header">
        <h2 id="drift-title">Drift</h2>
        <button type="button" className="button" onClick={() => (asked ? void drift.refetch() : setAsked(true))} disabled={drift.isFetching}>
          {drift.isFetching ? 'Checking…' : 'Check drift'}
        </button>
      </div>
      <p className="muted">Compares the logins Latchkey manages on the database with the grants it knows.</p>
      <ErrorNote error={drift.error ?? repair.error} />
      {report && (
        <div role="status">
          <p>
            Checked <When at={report.checkedAt} />:{' '}
            {clean ? 'no drift.' : `${report.orphanRoles.length} login(s) without a grant, ${report.missingGrants.length} grant(s) missing on the database.`}
            {report.repaired && ' Repaired.'}
          </p>
          {report.orphanRoles.length > 0 && (
            <ul aria-label="Logins without a grant">
              {report.orphanRoles.map((r) => (
                <li key={r.role}>
                  {r.role} {r.canLogin ? '(can log in)' : ''} {r.memberships.length > 0 && `member of ${r.memberships.join(', ')}`}
                </li>
              ))}
            </ul>
          )}
          {report.missingGrants.length > 0 && (
            <ul aria-label="Grants missing on the database">
              {report.missingGrants.map((g) => (
                <li key={g.grantId}>
                  {g.role}: missing {g.missing.join(', ')}
                </li>
              ))}
            </ul>
          )}
          {!clean && (
            <button type="button" className="button button--primary" onClick={() => repair.mutate()} disabled={repair.isPending}>
              {repair.isPending ? 'Repairing…' : 'Repair drift'}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

/** Deleting is confirmed by typing the integration's name. */
function DeleteIntegration({ integration, open, onClose }: { integration: Integration; open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [typed, setTyped] = useState('');
  const remove = useMutation({
    mutationFn: () => api<{ id: string }>('DELETE', `/integrations/${integration.id}`),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: keys.integration(integration.id) });
      void queryClient.invalidateQueries({ queryKey: keys.integrations });
      navigate('/integrations');
    },
  });
  return (
    <Dialog open={open} title={`Delete ${integration.name}?`} onClose={onClose}>
      <p>Its discovered inventory and tags go too. People keep no access through it. This cannot be undone.</p>
      <div className="field">
        <label htmlFor="confirm-name">Type the integration's name to confirm</label>
        <input id="confirm-name" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
      </div>
      <ErrorNote error={remove.error} title="Not deleted" />
      <div className="dialog__actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button button--danger" disabled={typed !== integration.name || remove.isPending} onClick={() => remove.mutate()}>
          Delete integration
        </button>
      </div>
    </Dialog>
  );
}
