import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { NewPassword, PASSWORD_MIN_LENGTH, SetPasswordInput } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { TextField } from '../components/fields';
import { schemaErrors } from '../forms/form-state';
import { useForm } from '../forms/use-form';

interface PasswordValues {
  password: string;
  confirm: string;
}

/** The token of a one-time link rides in the fragment (`#token=`): it never reaches a server log or a Referer. */
function tokenFromFragment(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
}

export function SetPasswordPage() {
  const navigate = useNavigate();
  const [token] = useState(tokenFromFragment);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const validate = useCallback((v: PasswordValues) => {
    const errors = { ...schemaErrors(NewPassword, v.password) };
    const byField: Record<string, string> = {};
    if (errors['(body)']) byField.password = errors['(body)'];
    if (v.confirm !== v.password) byField.confirm = 'must repeat the password exactly';
    return byField;
  }, []);
  const form = useForm<PasswordValues>({ password: '', confirm: '' }, validate);

  useEffect(() => {
    document.title = 'Set your password · Latchkey';
    // Keep the token out of the address bar (and of history) once it is read.
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);
  }, []);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setFailure(null);
    if (form.reveal(['password', 'confirm'])) return;
    setSaving(true);
    try {
      const body = SetPasswordInput.parse({ token, password: form.values.password });
      await api<void>('POST', '/auth/password', { body });
      navigate('/sign-in?password=set', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'LINK_INVALID')
        setFailure('This link is not valid any more (used, expired or replaced). Ask an administrator for a new one.');
      else if (err instanceof ApiError && err.issues.length > 0) form.setServerIssues(err.issues);
      else setFailure(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <main className="center-page" id="main">
      <div className="card card--narrow">
        <h1>Set your password</h1>
        {!token ? (
          <p className="alert alert--error" role="alert">
            This page needs the one-time link an administrator gave you (it ends in #token=…). <Link to="/sign-in">Sign in</Link> instead.
          </p>
        ) : (
          <form onSubmit={submit} noValidate>
            <TextField
              form={form}
              name="password"
              label="New password"
              type="password"
              autoComplete="new-password"
              hint={`At least ${PASSWORD_MIN_LENGTH} characters. A passphrase of a few words is easy to type and hard to guess.`}
            />
            <TextField form={form} name="confirm" label="Repeat the password" type="password" autoComplete="new-password" />
            {failure && (
              <p className="alert alert--error" role="alert">
                {failure}
              </p>
            )}
            <button type="submit" className="button button--primary" disabled={saving}>
              {saving ? 'Saving…' : 'Set password'}
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
