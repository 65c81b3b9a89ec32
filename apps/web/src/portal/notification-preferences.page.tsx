import { useEffect, useId, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { PersonalEventType } from '@latchkey/contracts';
import type { EmailChoices, NotificationPreferences } from '@latchkey/contracts';
import { api } from '../api/client';
import { ErrorNote, Loading, PageHeader } from '../components/ui';

/** What each email is, in the words a person sees. */
const EVENT_WORDS: Record<PersonalEventType, string> = {
  'access_request.created': 'A request needs my approval',
  'access_request.partially_approved': 'A request reaches my approver group (approvals in turn)',
  'access_request.reminder': 'Reminders of requests still waiting for me',
  'access_request.escalated': 'A request is escalated to me',
  'access_request.approved': 'My request was approved',
  'access_request.rejected': 'My request was rejected',
  'access_request.granted': 'My access is ready',
  'access_request.expiring': 'My access ends soon',
  'access_request.expired': 'My access or request expired',
  'access_request.revoked': 'My access was revoked',
  'access_request.failed': 'My access could not be granted',
};

const PREFERENCES_KEY = ['me', 'notification-preferences'] as const;

/** The signed-in person's email notifications, one switch per kind of message, over the organisation's defaults. */
export function NotificationPreferencesPage() {
  const id = useId();
  const queryClient = useQueryClient();
  const prefs = useQuery({ queryKey: PREFERENCES_KEY, queryFn: () => api<NotificationPreferences>('GET', '/me/notification-preferences') });
  const [choices, setChoices] = useState<Record<string, boolean>>({});
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (prefs.data) setChoices(prefs.data.email);
  }, [prefs.data]);
  const save = useMutation({
    mutationFn: () => {
      // Only what differs from the organisation's default is the person's own choice.
      const defaults = prefs.data?.defaults ?? {};
      const email: EmailChoices = {};
      for (const type of PersonalEventType.options) if (choices[type] !== (defaults[type] ?? true)) email[type] = choices[type];
      return api<NotificationPreferences>('PUT', '/me/notification-preferences', { body: { email } });
    },
    onSuccess: (data) => {
      queryClient.setQueryData(PREFERENCES_KEY, data);
      setSaved(true);
    },
  });

  return (
    <>
      <PageHeader title="My notifications" description="Which emails Latchkey sends you. Webhooks and Slack channels are set up by administrators and are not changed here." />
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
          <fieldset>
            <legend id={`${id}-title`}>Email me when</legend>
            <ul className="plain">
              {PersonalEventType.options.map((type) => {
                const orgDefault = prefs.data.defaults[type] ?? true;
                return (
                  <li key={type}>
                    <label>
                      <input type="checkbox" checked={choices[type] ?? true} onChange={(e) => (setSaved(false), setChoices({ ...choices, [type]: e.target.checked }))} /> {EVENT_WORDS[type]}
                    </label>{' '}
                    <small className="muted">(organisation default: {orgDefault ? 'on' : 'off'})</small>
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
    </>
  );
}
