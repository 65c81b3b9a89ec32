import { useCallback, useEffect, useState } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { SignInInput } from '@latchkey/contracts';
import { ApiError } from '../api/client';
import { useSession, useSignIn, useSignInProviders } from '../api/session';
import { TextField } from '../components/fields';
import { schemaErrors } from '../forms/form-state';
import { useForm } from '../forms/use-form';
import { signInErrorMessage } from './sign-in-errors';

interface SignInValues {
  email: string;
  password: string;
}

/** Only paths of this app: never send a person to another site after signing in. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export function SignInPage() {
  const [params] = useSearchParams();
  const session = useSession();
  const signIn = useSignIn();
  const providers = useSignInProviders();
  const sso = providers.data?.find((p) => p.id === 'oidc' && p.startUrl);
  const ssoError = signInErrorMessage(params.get('error'));
  const [failure, setFailure] = useState<string | null>(null);
  const validate = useCallback((v: SignInValues) => schemaErrors(SignInInput, v), []);
  const form = useForm<SignInValues>({ email: params.get('email') ?? '', password: '' }, validate);

  useEffect(() => {
    document.title = 'Sign in · Latchkey';
  }, []);

  if (session.data) return <Navigate to={safeNext(params.get('next'))} replace />;

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    setFailure(null);
    if (form.reveal(['email', 'password'])) return;
    signIn.mutate(form.values, {
      onError: (err) => {
        if (err instanceof ApiError && err.code === 'TOO_MANY_ATTEMPTS') {
          const retry = Number(err.details.retryAfterSeconds);
          setFailure(`${err.message}${Number.isFinite(retry) && retry > 0 ? ` Try again in ${Math.ceil(retry / 60)} minute${retry > 60 ? 's' : ''}.` : ''}`);
        } else if (err instanceof ApiError && err.issues.length > 0) {
          form.setServerIssues(err.issues);
        } else {
          setFailure(err instanceof Error ? err.message : String(err));
        }
      },
    });
  };

  return (
    <main className="center-page" id="main">
      <div className="card card--narrow">
        <h1>Sign in to Latchkey</h1>
        {params.get('password') === 'set' && (
          <p className="alert alert--ok" role="status">
            Your password is set. Sign in with it.
          </p>
        )}
        {ssoError && (
          <p className="alert alert--error" role="alert">
            {ssoError}
          </p>
        )}
        {sso && (
          <>
            <a className="button button--primary" href={`${sso.startUrl}?returnTo=${encodeURIComponent(safeNext(params.get('next')))}`}>
              Sign in with {sso.name}
            </a>
            <p className="muted">or with your email and password:</p>
          </>
        )}
        <form onSubmit={submit} noValidate>
          <TextField form={form} name="email" label="Email" type="email" autoComplete="username" required />
          <TextField form={form} name="password" label="Password" type="password" autoComplete="current-password" required />
          {failure && (
            <p className="alert alert--error" role="alert">
              {failure}
            </p>
          )}
          <button type="submit" className="button button--primary" disabled={signIn.isPending}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p className="muted">No password yet? Use the one-time link an administrator gave you (or the one `npm start` printed).</p>
      </div>
    </main>
  );
}
