import { useEffect, useId, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { NotificationDefaultsInput, PersonalChannel, PersonalEventType } from '@latchkey/contracts';
import type { NotificationDefaults } from '@latchkey/contracts';
import { api } from '../api/client';
import { keys } from '../api/queries';
import { ErrorNote, Loading, PageHeader, When } from '../components/ui';
import { CHANNEL_WORDS, EVENT_WORDS } from '../portal/notification-words';
import { NotificationsTabs } from './notifications.page';

/** The organisation's defaults as the form holds them: every kind of message with its switch. */
const switchesOf = (d: NotificationDefaults): Record<PersonalEventType, boolean> =>
  Object.fromEntries(PersonalEventType.options.map((t) => [t, d.essential.includes(t) || (d.events[t] ?? true)])) as Record<PersonalEventType, boolean>;

/**
 * The organisation's notification defaults: the channels and the messages that apply to everyone
 * who has not chosen for themselves. Essential messages are shown on and cannot be turned off.
 */
export function NotificationDefaultsPage() {
  const id = useId();
  const queryClient = useQueryClient();
  const defaults = useQuery({ queryKey: keys.notificationDefaults, queryFn: () => api<NotificationDefaults>('GET', '/notification-preferences/defaults') });
  const [channels, setChannels] = useState<PersonalChannel[]>([]);
  const [events, setEvents] = useState<Record<string, boolean>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!defaults.data) return;
    setChannels(defaults.data.channels);
    setEvents(switchesOf(defaults.data));
  }, [defaults.data]);
  const save = useMutation({
    mutationFn: (body: NotificationDefaultsInput) => api<NotificationDefaults>('PUT', '/notification-preferences/defaults', { body }),
    onSuccess: (data) => {
      queryClient.setQueryData(keys.notificationDefaults, data);
      setSaved(true);
    },
  });
  const change = (apply: () => void) => {
    setSaved(false);
    setProblem(null);
    apply();
  };

  return (
    <>
      <PageHeader title="Notifications" description="What Latchkey tells people, and where, unless they choose otherwise on their own My notifications page." />
      <NotificationsTabs />
      <ErrorNote error={defaults.error} />
      {defaults.isPending && <Loading what="the organisation's defaults" />}
      {defaults.data && (
        <form
          className="panel"
          aria-labelledby={`${id}-title`}
          onSubmit={(e) => {
            e.preventDefault();
            setSaved(false);
            // Only the messages turned off are stored: a type left out is on.
            const body = {
              channels,
              events: Object.fromEntries(Object.entries(events).filter(([type, on]) => !on && !defaults.data.essential.includes(type as PersonalEventType))),
            };
            const checked = NotificationDefaultsInput.safeParse(body);
            if (!checked.success) return setProblem(checked.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; '));
            save.mutate(body);
          }}
        >
          <h2 id={`${id}-title`}>Organisation defaults</h2>
          <p className="muted">
            A person's own choices win over these.{' '}
            {defaults.data.updatedAt ? (
              <>
                Last changed <When at={defaults.data.updatedAt} />.
              </>
            ) : (
              'Never changed: everything on, by email.'
            )}
          </p>
          <fieldset>
            <legend>Send people's notifications by</legend>
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
                  </label>
                </li>
              ))}
            </ul>
            <small className="muted">Slack goes to each person's own Slack incoming webhook; people who have not set one are told by email instead.</small>
          </fieldset>
          <fieldset>
            <legend>Tell people when</legend>
            <ul className="plain">
              {PersonalEventType.options.map((type) => {
                const essential = defaults.data.essential.includes(type);
                return (
                  <li key={type}>
                    <label>
                      <input
                        type="checkbox"
                        checked={essential || (events[type] ?? true)}
                        disabled={essential}
                        onChange={(e) => change(() => setEvents({ ...events, [type]: e.target.checked }))}
                      />{' '}
                      {EVENT_WORDS[type]}
                    </label>{' '}
                    {essential && <small className="muted">(always on: essential)</small>}
                  </li>
                );
              })}
            </ul>
          </fieldset>
          {problem && (
            <div className="alert alert--error" role="alert">
              <strong>Not saved:</strong> {problem}
            </div>
          )}
          <ErrorNote error={save.error} title="Not saved" />
          <button type="submit" className="button" disabled={save.isPending}>
            Save defaults
          </button>
          <p role="status">{saved ? 'Defaults saved.' : ''}</p>
        </form>
      )}
    </>
  );
}
