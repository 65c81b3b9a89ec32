import { useCallback, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { SsoSettingsInput } from '@latchkey/contracts';
import type { SsoSettings } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { CheckboxField, TextField } from '../components/fields';
import { Badge, CodeBlock, Dialog, ErrorNote, Loading, PageHeader, When } from '../components/ui';
import { schemaErrors } from '../forms/form-state';
import { useForm } from '../forms/use-form';
import { PeopleTabs } from './people.page';

const SSO_KEY = ['settings', 'sso'] as const;

interface SsoValues {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  providerName: string;
  groupsClaim: string;
  scopes: string;
  requireSso: boolean;
  justInTime: boolean;
}

const valuesOf = (s: SsoSettings): SsoValues => ({
  issuerUrl: s.issuerUrl ?? '',
  clientId: s.clientId ?? '',
  clientSecret: '',
  providerName: s.providerName,
  groupsClaim: s.groupsClaim,
  scopes: s.scopes,
  requireSso: s.requireSso,
  justInTime: s.justInTime,
});

/** The secret is sent only when typed: left empty, the stored one stays. */
const bodyOf = (v: SsoValues) => ({
  issuerUrl: v.issuerUrl.trim(),
  clientId: v.clientId.trim(),
  ...(v.clientSecret ? { clientSecret: v.clientSecret } : {}),
  providerName: v.providerName.trim(),
  groupsClaim: v.groupsClaim.trim(),
  scopes: v.scopes.trim(),
  requireSso: v.requireSso,
  justInTime: v.justInTime,
});

const SOURCE_WORDS: Record<SsoSettings['source'], string> = {
  settings: 'Saved here',
  environment: 'From the OIDC_* environment variables',
  none: 'Off',
};

/**
 * Single sign-on for the console and the CLI: the provider's issuer, this client's id and secret
 * (write-only: the server seals it and never shows it again), the button's name, where the groups
 * are, and the sign-in rules. Saved settings win over the environment's.
 */
export function SsoSettingsPage() {
  const current = useQuery({ queryKey: SSO_KEY, queryFn: () => api<SsoSettings>('GET', '/settings/sso') });
  // Kept here: the form below starts over after each save.
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <>
      <PageHeader title="People" />
      <PeopleTabs />
      {current.isPending && <Loading what="single sign-on" />}
      <ErrorNote error={current.error} />
      {/* A new form for each saved state: what the server holds now, the secret field empty. */}
      {notice && <p role="status">{notice}</p>}
      {current.data && <SsoForm key={`${current.data.source}:${current.data.updatedAt ?? ''}`} data={current.data} onNotice={setNotice} />}
    </>
  );
}

function SsoForm({ data, onNotice }: { data: SsoSettings; onNotice: (notice: string | null) => void }) {
  const queryClient = useQueryClient();
  const firstSave = data.source !== 'settings';
  const validate = useCallback(
    (v: SsoValues) => ({
      ...schemaErrors(SsoSettingsInput, bodyOf(v)),
      // The server says the same; said here before the person presses Save twice.
      ...(firstSave && !v.clientSecret ? { clientSecret: 'is required the first time single sign-on is saved' } : {}),
    }),
    [firstSave],
  );
  const form = useForm<SsoValues>(() => valuesOf(data), validate);
  const [confirmOff, setConfirmOff] = useState(false);
  const onSaved = (data: SsoSettings) => {
    queryClient.setQueryData(SSO_KEY, data);
    void queryClient.invalidateQueries({ queryKey: ['auth-providers'] });
  };
  const save = useMutation({
    mutationFn: () => api<SsoSettings>('PUT', '/settings/sso', { body: bodyOf(form.values) }),
    onSuccess: (data) => {
      onSaved(data);
      onNotice('Saved: the sign-in page offers it now.');
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  const remove = useMutation({
    mutationFn: () => api<SsoSettings>('DELETE', '/settings/sso'),
    onSuccess: (data) => {
      onSaved(data);
      setConfirmOff(false);
      onNotice('Removed: the sign-in page no longer offers the saved single sign-on.');
    },
  });

  return (
    <>
      <section className="panel" aria-labelledby="sso-title">
        <h2 id="sso-title">Single sign-on (OpenID Connect)</h2>
        <p>
          In effect: <Badge tone={data.source === 'none' ? 'idle' : 'ok'}>{SOURCE_WORDS[data.source]}</Badge>
          {data.updatedAt && (
            <>
              {' '}
              last saved by {data.updatedBy ?? 'someone'} <When at={data.updatedAt} />
            </>
          )}
        </p>
        {data.redirectUri ? (
          <CodeBlock caption="Redirect URI to register at the identity provider" code={data.redirectUri} />
        ) : (
          <p role="note">Set LATCHKEY_PUBLIC_URL on the gateway first: the redirect URI is made from it.</p>
        )}
        <form
          aria-label="Single sign-on settings"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            onNotice(null);
            if (!form.reveal(['issuerUrl', 'clientId', 'clientSecret', 'providerName', 'groupsClaim', 'scopes'])) save.mutate();
          }}
        >
          <TextField form={form} name="issuerUrl" label="Issuer URL" hint="Discovery reads <issuer>/.well-known/openid-configuration." />
          <TextField form={form} name="clientId" label="Client ID" />
          <TextField
            form={form}
            name="clientSecret"
            type="password"
            autoComplete="new-password"
            label="Client secret"
            hint={
              data.source === 'settings'
                ? 'A secret is stored (never shown). Leave empty to keep it.'
                : 'Sealed under the master key when saved; never shown again.'
            }
          />
          <TextField form={form} name="providerName" label="Button name" hint='The sign-in page says "Sign in with <name>".' />
          <TextField form={form} name="groupsClaim" label="Groups claim" hint="The claim that lists a person's groups; a dotted path reads a nested claim." />
          <TextField form={form} name="scopes" label="Scopes" hint="Separated by spaces; openid is always asked for." />
          <CheckboxField form={form} name="requireSso" label="Require single sign-on" hint="Passwords then work only for the break-glass admin." />
          <CheckboxField form={form} name="justInTime" label="Create accounts at first sign-in" hint="Off: only people an admin (or SCIM) added can sign in." />
          <ErrorNote error={save.error instanceof ApiError && save.error.issues.length > 0 ? null : save.error} title="Not saved" />
          <div className="dialog__actions">
            {data.source === 'settings' && (
              <button type="button" className="button" onClick={() => setConfirmOff(true)}>
                Remove saved settings
              </button>
            )}
            <button type="submit" className="button button--primary" disabled={save.isPending}>
              Save
            </button>
          </div>
        </form>
      </section>
      <Dialog open={confirmOff} title="Remove the saved single sign-on?" onClose={() => setConfirmOff(false)}>
        <p>The sign-in page stops offering it (unless the environment sets one). People keep their accounts and sessions.</p>
        <ErrorNote error={remove.error} title="Not removed" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setConfirmOff(false)}>
            Cancel
          </button>
          <button type="button" className="button button--danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
            Remove
          </button>
        </div>
      </Dialog>
    </>
  );
}
