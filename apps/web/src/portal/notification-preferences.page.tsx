import { useEffect, useId, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { PersonalChannel, PersonalEventType } from '@latchkey/contracts';
import type { DeliveryStatus, NotificationPreferences, NotificationPreferencesInput, PersonalDelivery } from '@latchkey/contracts';
import { api } from '../api/client';
import type { Page } from '../api/queries';
import { Badge, ErrorNote, Loading, PageHeader, When } from '../components/ui';
import { CHANNEL_WORDS, EVENT_WORDS, eventWords } from './notification-words';
import { PORTAL_POLL_MS } from './portal-words';

const PREFERENCES_KEY = ['me', 'notification-preferences'] as const;
const DELIVERIES_KEY = ['me', 'notification-deliveries'] as const;
const STATUS_WORDS: Record<DeliveryStatus, [string, 'ok' | 'warn' | 'bad']> = {
  DELIVERED: ['delivered', 'ok'],
  PENDING: ['being sent', 'warn'],
  DEAD: ['given up', 'bad'],
};

const sameChannels = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((c) => b.includes(c));

/** The signed-in person's notifications: where they go (email, their own Slack), and one switch per kind of message over the organisation's defaults. */
export function NotificationPreferencesPage() {
  const id = useId();
  const queryClient = useQueryClient();
  const prefs = useQuery({ queryKey: PREFERENCES_KEY, queryFn: () => api<NotificationPreferences>('GET', '/me/notification-preferences') });
  const [choices, setChoices] = useState<Record<string, boolean>>({});
  const [channels, setChannels] = useState<PersonalChannel[]>([]);
  const [slackUrl, setSlackUrl] = useState('');
  const [removeSlack, setRemoveSlack] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!prefs.data) return;
    setChoices(prefs.data.events);
    setChannels(prefs.data.channels);
    setSlackUrl('');
    setRemoveSlack(false);
  }, [prefs.data]);
  const save = useMutation({
    mutationFn: () => {
      // Only what differs from the organisation's default is the person's own choice.
      const defaults = prefs.data!.defaults;
      const events: Record<string, boolean> = {};
      for (const type of PersonalEventType.options)
        if (!prefs.data!.essential.includes(type) && choices[type] !== (defaults.events[type] ?? true)) events[type] = choices[type];
      const body: NotificationPreferencesInput = { events };
      if (prefs.data!.overrides.channels || !sameChannels(channels, defaults.channels)) body.channels = channels;
      if (slackUrl.trim()) body.slackWebhookUrl = slackUrl.trim();
      else if (removeSlack) body.slackWebhookUrl = null;
      return api<NotificationPreferences>('PUT', '/me/notification-preferences', { body });
    },
    onSuccess: (data) => {
      queryClient.setQueryData(PREFERENCES_KEY, data);
      setSaved(true);
    },
  });
  const change = (apply: () => void) => {
    setSaved(false);
    apply();
  };

  return (
    <>
      <PageHeader
        title="My notifications"
        description="Where Latchkey tells you what happened, and which messages you get. Webhooks and Slack channels of the organisation are set up by administrators and are not changed here."
      />
      <ErrorNote error={prefs.error} />
      {prefs.isPending && <Loading what="your notification preferences" />}
      {prefs.data && (
        <form
          className="panel"
          aria-labelledby={`${id}-title`}
          onSubmit={(e) => {
            e.preventDefault();
            setSaved(false);
            save.mutate();
          }}
        >
          <h2 id={`${id}-title`}>Notification preferences</h2>
          <fieldset>
            <legend>Send my notifications by</legend>
            <ul className="plain">
              {PersonalChannel.options.map((channel) => (
                <li key={channel}>
                  <label>
                    <input
                      type="checkbox"
                      checked={channels.includes(channel)}
                      onChange={(e) => change(() => setChannels(e.target.checked ? [...channels, channel] : channels.filter((c) => c !== channel)))}
                    />{' '}
                    {CHANNEL_WORDS[channel]}
                  </label>{' '}
                  <small className="muted">(organisation default: {prefs.data.defaults.channels.includes(channel) ? 'on' : 'off'})</small>
                </li>
              ))}
            </ul>
            <div className="field">
              <label htmlFor={`${id}-slack`}>My Slack incoming webhook URL</label>
              <input
                id={`${id}-slack`}
                type="url"
                autoComplete="off"
                value={slackUrl}
                onChange={(e) => change(() => setSlackUrl(e.target.value))}
                aria-describedby={`${id}-slack-hint`}
              />
              <small id={`${id}-slack-hint`} className="muted">
                {prefs.data.slack
                  ? `Set (${prefs.data.slack.url}): it is kept secret and not shown in full; type a new one to replace it.`
                  : 'None set. In Slack, add the Incoming Webhooks app to a conversation with yourself and paste its URL (https://hooks.slack.com/services/...). Without one, Slack messages come by email.'}
              </small>
            </div>
            {prefs.data.slack && (
              <label>
                <input type="checkbox" checked={removeSlack} onChange={(e) => change(() => setRemoveSlack(e.target.checked))} /> Remove my Slack webhook
              </label>
            )}
          </fieldset>
          <fieldset>
            <legend>Tell me when</legend>
            <ul className="plain">
              {PersonalEventType.options.map((type) => {
                const essential = prefs.data.essential.includes(type);
                const orgDefault = prefs.data.defaults.events[type] ?? true;
                return (
                  <li key={type}>
                    <label>
                      <input
                        type="checkbox"
                        checked={essential || (choices[type] ?? true)}
                        disabled={essential}
                        onChange={(e) => change(() => setChoices({ ...choices, [type]: e.target.checked }))}
                      />{' '}
                      {EVENT_WORDS[type]}
                    </label>{' '}
                    <small className="muted">{essential ? '(always on: essential)' : `(organisation default: ${orgDefault ? 'on' : 'off'})`}</small>
                  </li>
                );
              })}
            </ul>
          </fieldset>
          <ErrorNote error={save.error} title="Not saved" />
          <button type="submit" className="button" disabled={save.isPending}>
            Save preferences
          </button>
          <p role="status">{saved ? 'Preferences saved.' : ''}</p>
        </form>
      )}
      {prefs.data && <MyDeliveries />}
    </>
  );
}

/** The latest messages to the person's own Slack and email: whether each arrived, every attempt and what the receiver answered. */
function MyDeliveries() {
  const deliveries = useQuery({
    queryKey: DELIVERIES_KEY,
    queryFn: () => api<Page<PersonalDelivery>>('GET', '/me/notification-deliveries', { query: { pageSize: 20 } }),
    // Messages being sent move on by themselves (retries): poll until they settle.
    refetchInterval: (query) => (query.state.data?.items.some((d) => d.status === 'PENDING') ? PORTAL_POLL_MS : false),
  });
  return (
    <section className="panel" aria-labelledby="my-deliveries">
      <h2 id="my-deliveries">Recent messages to me</h2>
      <ErrorNote error={deliveries.error} />
      {deliveries.isPending && <Loading what="your recent messages" />}
      {deliveries.data?.items.length === 0 && <p>No message to your Slack or email yet.</p>}
      {deliveries.data && deliveries.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Recent messages to me</caption>
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.items.map((d) => {
                const [words, tone] = STATUS_WORDS[d.status];
                return (
                  <tr key={d.id}>
                    <th scope="row">
                      {eventWords(d.eventType)}
                      <div className="muted">
                        <When at={d.createdAt} />
                      </div>
                    </th>
                    <td>{CHANNEL_WORDS[d.channel]}</td>
                    <td>
                      <Badge tone={tone}>{words}</Badge>
                      {d.lastError && <div className="muted">{d.lastError}</div>}
                    </td>
                    <td>
                      <ol className="plain" aria-label={`Attempts of the ${CHANNEL_WORDS[d.channel]} message "${eventWords(d.eventType)}"`}>
                        {d.attemptLog.map((a) => (
                          <li key={a.attempt}>
                            #{a.attempt} <When at={a.at} />: {a.statusCode ?? 'no answer'} in {a.latencyMs} ms
                            {(a.error ?? a.responseExcerpt) && <div className="muted path">{a.error ?? a.responseExcerpt}</div>}
                          </li>
                        ))}
                      </ol>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
