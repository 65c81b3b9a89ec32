import { useCallback, useState } from 'react';
import { Link, NavLink, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { NotificationEventType, WebhookInput } from '@latchkey/contracts';
import type { Delivery, DeliveryStatus, Webhook } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { allPages, keys, POLL_MS, useFlows, useIntegrations } from '../api/queries';
import type { Page } from '../api/queries';
import { CheckboxField, ChoiceGroup, SelectField, TextField } from '../components/fields';
import { Badge, Dialog, ErrorNote, Loading, PageHeader, SecretOnce, When } from '../components/ui';
import { schemaErrors } from '../forms/form-state';
import { useForm } from '../forms/use-form';

/** The event types an endpoint may subscribe to (the test event goes to every endpoint on request). */
const EVENT_TYPES = NotificationEventType.options.filter((t) => t !== 'webhook.test');

interface EndpointValues {
  name: string;
  url: string;
  format: 'standard' | 'slack';
  allEvents: boolean;
  events: string[];
  integrationIds: string[];
  flowIds: string[];
  active: boolean;
}

const endpointBody = (v: EndpointValues) => ({
  name: v.name,
  url: v.url,
  format: v.format,
  events: v.allEvents ? ['*'] : v.events,
  filters: { ...(v.integrationIds.length ? { integrationIds: v.integrationIds } : {}), ...(v.flowIds.length ? { flowIds: v.flowIds } : {}) },
  active: v.active,
});

const valuesOf = (w: Webhook | null): EndpointValues => ({
  name: w?.name ?? '',
  url: w?.url ?? '',
  format: w?.format ?? 'standard',
  allEvents: !w || w.events.includes('*'),
  events: w && !w.events.includes('*') ? w.events : [],
  integrationIds: w?.filters.integrationIds ?? [],
  flowIds: w?.filters.flowIds ?? [],
  active: w?.active ?? true,
});

const formatName = (f: string) => (f === 'slack' ? 'Slack channel' : 'Webhook (Standard Webhooks)');

function EndpointStatus({ webhook }: { webhook: Webhook }) {
  if (webhook.active) return <Badge tone="ok">active</Badge>;
  return <Badge tone={webhook.disabledReason ? 'bad' : 'idle'}>{webhook.disabledReason ? 'disabled by Latchkey' : 'paused'}</Badge>;
}

/** The console's notification pages: the organisation's endpoints, and the defaults for people. */
export function NotificationsTabs() {
  return (
    <nav className="tabs" aria-label="Notifications">
      <NavLink to="/notifications" end className="tabs__tab">
        Endpoints
      </NavLink>
      <NavLink to="/notifications/defaults" className="tabs__tab">
        Organisation defaults
      </NavLink>
    </nav>
  );
}

/** Webhook endpoints and Slack channels: what Latchkey tells, to whom, and whether it got there. */
export function NotificationsPage() {
  const endpoints = useQuery({ queryKey: keys.webhooks, queryFn: () => allPages<Webhook>('/webhooks') });
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<(Webhook & { secret: string }) | null>(null);
  return (
    <>
      <PageHeader
        title="Notifications"
        description="Webhook endpoints (signed with the Standard Webhooks scheme) and Slack channels (incoming webhooks) receive Latchkey's events. Email goes to each person's address through the SMTP server set with SMTP_URL and SMTP_FROM when the service starts."
      >
        <button type="button" className="button button--primary" onClick={() => setAdding(true)}>
          Add an endpoint
        </button>
      </PageHeader>
      <NotificationsTabs />
      {created && (
        <div className="panel">
          {created.format === 'standard' ? (
            <SecretOnce
              label="Signing secret"
              value={created.secret}
              note={<>Secret of {created.name}: your receiver verifies signatures with it. It is shown only now; rotate it to get a new one.</>}
            />
          ) : (
            <p role="status">{created.name} was added.</p>
          )}
          <button type="button" className="button button--small" onClick={() => setCreated(null)}>
            {created.format === 'standard' ? 'Done, hide the secret' : 'Dismiss'}
          </button>
        </div>
      )}
      {endpoints.isPending && <Loading what="endpoints" />}
      <ErrorNote error={endpoints.error} />
      {endpoints.data?.length === 0 && <p>No endpoint yet: events are only in the audit log.</p>}
      {endpoints.data && endpoints.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Endpoints</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Kind</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.data.map((w) => (
                <tr key={w.id}>
                  <th scope="row">
                    <Link to={`/notifications/${w.id}`}>{w.name}</Link>
                    <div className="muted path">{w.url}</div>
                  </th>
                  <td>{formatName(w.format)}</td>
                  <td>{w.events.includes('*') ? 'all events' : w.events.join(', ')}</td>
                  <td>
                    <EndpointStatus webhook={w} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {adding && (
        <EndpointEditor
          webhook={null}
          onClose={() => setAdding(false)}
          onSaved={(saved) => {
            setAdding(false);
            if ('secret' in saved) setCreated(saved as Webhook & { secret: string });
          }}
        />
      )}
    </>
  );
}

function EndpointEditor({ webhook, onClose, onSaved }: { webhook: Webhook | null; onClose: () => void; onSaved: (saved: Webhook) => void }) {
  const queryClient = useQueryClient();
  const integrations = useIntegrations();
  const flows = useFlows();
  const validate = useCallback((v: EndpointValues) => schemaErrors(WebhookInput, endpointBody(v)), []);
  const form = useForm<EndpointValues>(valuesOf(webhook), validate);
  const save = useMutation({
    mutationFn: () => {
      const body = endpointBody(form.values);
      return webhook ? api<Webhook>('PUT', `/webhooks/${webhook.id}`, { body }) : api<Webhook>('POST', '/webhooks', { body });
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.webhooks });
      onSaved(saved);
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  const fields = ['name', 'url', 'format', 'events', 'filters', 'active'];
  return (
    <Dialog open title={webhook ? `Edit ${webhook.name}` : 'Add an endpoint'} onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!form.reveal(fields)) save.mutate();
        }}
      >
        <TextField form={form} name="name" label="Name" />
        <SelectField
          form={form}
          name="format"
          label="Kind"
          options={[
            { value: 'standard', label: 'Webhook (Standard Webhooks, signed JSON)' },
            { value: 'slack', label: 'Slack channel (incoming-webhook URL, Block Kit messages)' },
          ]}
        />
        <TextField
          form={form}
          name="url"
          label="URL"
          hint={
            webhook
              ? 'Shown with any credentials masked: type the full URL again to change it.'
              : 'http:// or https://. Private and loopback addresses only when WEBHOOK_ALLOW_PRIVATE_URLS is set.'
          }
        />
        <CheckboxField form={form} name="allEvents" label="Every event type (*)" />
        {!form.values.allEvents && (
          <ChoiceGroup form={form} name="events" legend="Event types" multiple choices={EVENT_TYPES.map((t) => ({ value: t, label: t }))} />
        )}
        <ChoiceGroup
          form={form}
          name="integrationIds"
          legend="Only events of these integrations (none: all)"
          multiple
          choices={(integrations.data ?? []).map((i) => ({ value: i.id, label: i.name }))}
        />
        <ChoiceGroup
          form={form}
          name="flowIds"
          legend="Only requests through these access flows (none: all)"
          multiple
          choices={(flows.data ?? []).map((f) => ({ value: f.id, label: f.name }))}
        />
        <CheckboxField form={form} name="active" label="Active (send events to it)" />
        {form.error('filters') && <p className="field__error">{form.error('filters')}</p>}
        <ErrorNote error={save.error instanceof ApiError && save.error.issues.length > 0 ? null : save.error} title="Not saved" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={save.isPending}>
            {webhook ? 'Save endpoint' : 'Add endpoint'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const STATUS_TONE: Record<DeliveryStatus, 'ok' | 'warn' | 'bad'> = { DELIVERED: 'ok', PENDING: 'warn', DEAD: 'bad' };

/** One endpoint: its state, test, rotate, pause, delete, and its delivery log with every attempt. */
export function NotificationEndpointPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const webhook = useQuery({ queryKey: keys.webhook(id), queryFn: () => api<Webhook>('GET', `/webhooks/${encodeURIComponent(id)}`) });
  const deliveries = useQuery({
    queryKey: [...keys.webhook(id), 'deliveries', status],
    queryFn: () => api<Page<Delivery>>('GET', `/webhooks/${encodeURIComponent(id)}/deliveries`, { query: { status: status || undefined, pageSize: 50 } }),
    // Pending deliveries move on by themselves (retries): poll until they settle.
    refetchInterval: (query) => (query.state.data?.items.some((d) => d.status === 'PENDING') ? POLL_MS : false),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: keys.webhook(id) });
  const test = useMutation({ mutationFn: () => api<Delivery>('POST', `/webhooks/${id}/test`), onSuccess: refresh });
  const rotate = useMutation({
    mutationFn: () => api<Webhook & { secret: string }>('POST', `/webhooks/${id}/rotate-secret`),
    onSuccess: (w) => (setSecret(w.secret), refresh()),
  });
  const redeliver = useMutation({
    mutationFn: (deliveryId: string) => api<Delivery>('POST', `/webhooks/${id}/deliveries/${deliveryId}/redeliver`),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => api('DELETE', `/webhooks/${id}`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.webhooks });
      navigate('/notifications');
    },
  });
  if (webhook.isPending) return <Loading what="the endpoint" />;
  if (webhook.error) return <ErrorNote error={webhook.error} />;
  const w = webhook.data;
  return (
    <>
      <PageHeader title={`Endpoint: ${w.name}`} description={`${formatName(w.format)} at ${w.url}`}>
        <button type="button" className="button" onClick={() => test.mutate()} disabled={test.isPending}>
          Send a test event
        </button>
        {w.format === 'standard' && (
          <button type="button" className="button" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
            Rotate secret
          </button>
        )}
        <button type="button" className="button" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" className="button button--danger" onClick={() => setDeleting(true)}>
          Delete
        </button>
      </PageHeader>
      <section className="panel" aria-labelledby="endpoint-state">
        <h2 id="endpoint-state">State</h2>
        <p>
          <EndpointStatus webhook={w} /> Events: {w.events.includes('*') ? 'all' : w.events.join(', ')}
          {w.filters.integrationIds?.length ? `; integrations: ${w.filters.integrationIds.length}` : ''}
          {w.filters.flowIds?.length ? `; access flows: ${w.filters.flowIds.length}` : ''}
        </p>
        {w.disabledReason && (
          <p className="alert alert--error" role="alert">
            Latchkey turned this endpoint off: {w.disabledReason} Edit it and tick Active to send to it again.
          </p>
        )}
        {w.previousSecretExpiresAt && (
          <p className="muted">
            Until <When at={w.previousSecretExpiresAt} />, messages carry a signature with the previous secret as well.
          </p>
        )}
      </section>
      {secret && (
        <div className="panel">
          <SecretOnce label="New signing secret" value={secret} note="Shown only now. Both secrets sign messages until the previous one expires." />
          <button type="button" className="button button--small" onClick={() => setSecret(null)}>
            Done, hide the secret
          </button>
        </div>
      )}
      <ErrorNote error={test.error ?? rotate.error ?? redeliver.error} title="That did not work" />
      <section className="panel" aria-labelledby="endpoint-deliveries">
        <h2 id="endpoint-deliveries">Delivery log</h2>
        <div className="field">
          <label htmlFor="delivery-status">Delivery status</label>
          <select id="delivery-status" value={status} onChange={(e) => setStatus(e.target.value as DeliveryStatus | '')}>
            <option value="">Every delivery</option>
            <option value="PENDING">PENDING (being retried)</option>
            <option value="DELIVERED">DELIVERED</option>
            <option value="DEAD">DEAD (dead-lettered)</option>
          </select>
        </div>
        {deliveries.isPending && <Loading what="deliveries" />}
        <ErrorNote error={deliveries.error} />
        {deliveries.data?.items.length === 0 && <p>No delivery{status ? ` with status ${status}` : ''} yet.</p>}
        {deliveries.data && deliveries.data.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Deliveries</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data.items.map((d) => (
                  <tr key={d.id}>
                    <th scope="row">
                      {d.eventType}
                      <div className="muted">
                        <When at={d.createdAt} /> · webhook-id <span className="path">{d.messageId}</span>
                      </div>
                    </th>
                    <td>
                      <Badge tone={STATUS_TONE[d.status]}>{d.status}</Badge>
                      {d.deadLetteredAt && (
                        <div className="muted">
                          dead-lettered <When at={d.deadLetteredAt} />
                        </div>
                      )}
                      {d.status === 'PENDING' && d.nextAttemptAt && (
                        <div className="muted">
                          next attempt <When at={d.nextAttemptAt} />
                        </div>
                      )}
                    </td>
                    <td>
                      <ol className="plain" aria-label={`Attempts of ${d.eventType} ${d.messageId}`}>
                        {d.attemptLog.map((a) => (
                          <li key={a.attempt}>
                            #{a.attempt} <When at={a.at} />: {a.statusCode ?? 'no answer'} in {a.latencyMs} ms
                            {(a.error ?? a.responseExcerpt) && <div className="muted path">{a.error ?? a.responseExcerpt}</div>}
                          </li>
                        ))}
                      </ol>
                    </td>
                    <td className="actions">
                      {d.status !== 'PENDING' && (
                        <button
                          type="button"
                          className="button button--small"
                          aria-label={`Redeliver ${d.eventType} ${d.messageId}`}
                          disabled={redeliver.isPending}
                          onClick={() => redeliver.mutate(d.id)}
                        >
                          Redeliver
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {editing && <EndpointEditor webhook={w} onClose={() => setEditing(false)} onSaved={() => (setEditing(false), refresh())} />}
      <Dialog open={deleting} title={`Delete ${w.name}?`} onClose={() => setDeleting(false)}>
        <p>No event is sent to it any more; its delivery log goes with it.</p>
        <ErrorNote error={remove.error} title="Not deleted" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setDeleting(false)}>
            Cancel
          </button>
          <button type="button" className="button button--danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
            Delete endpoint
          </button>
        </div>
      </Dialog>
    </>
  );
}
