import { useId, useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { CLI_TOKEN_DAYS, CliSignInInput, cliKeyCode } from '@latchkey/contracts';
import type { CliSignInAnswer } from '@latchkey/contracts';
import { api } from '../api/client';
import { useSession } from '../api/session';
import { ErrorNote, PageHeader } from '../components/ui';

/** What `latchkey login` put in the address, or why the address is not one of its links. */
function loginRequest(params: URLSearchParams): { port: number; publicKey: string; state: string; host: string } | string {
  const port = Number(params.get('port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'the port of the CLI is missing or not a port number';
  const state = params.get('state') ?? '';
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) return 'the state is missing or malformed';
  const parsed = CliSignInInput.safeParse({ publicKey: params.get('key') ?? '', host: params.get('host') ?? '' });
  if (!parsed.success) return `the ${parsed.error.issues[0].path.join('.') === 'publicKey' ? 'key' : 'computer name'} ${parsed.error.issues[0].message}`;
  return { port, state, ...parsed.data };
}

/** Where the CLI listens: always the loopback address on this computer, whatever the link says. */
const loopback = (port: number, query: Record<string, string>) => `http://127.0.0.1:${port}/callback?${new URLSearchParams(query)}`;

/**
 * `latchkey login` lands here (after signing in, by single sign-on or password). The person sees
 * which computer asks and the code their terminal shows, and allows or denies. Allowing asks the
 * server for a token sealed to the CLI's one-time key and sends the browser to the CLI's loopback
 * listener with it: this page never sees the token itself.
 */
export function CliSignInPage() {
  const id = useId();
  const [params] = useSearchParams();
  const session = useSession();
  const request = loginRequest(params);
  const [done, setDone] = useState<'allowed' | 'denied' | null>(null);
  const allow = useMutation({
    mutationFn: (r: { publicKey: string; host: string }) => api<CliSignInAnswer>('POST', '/auth/cli-tokens', { body: r }),
    onSuccess: (answer) => {
      if (typeof request === 'string') return;
      setDone('allowed');
      window.location.assign(loopback(request.port, { state: request.state, sealed: answer.sealedToken }));
    },
  });

  if (typeof request === 'string') {
    return (
      <>
        <PageHeader title="Sign in the Latchkey CLI" />
        <ErrorNote
          error={new Error(`This is not a link from \`latchkey login\`: ${request}. Run latchkey login again and open the address it prints.`)}
          title="This sign-in link is not valid"
        />
      </>
    );
  }
  const email = session.data?.user.email ?? '';
  return (
    <>
      <PageHeader title="Sign in the Latchkey CLI" description="A command line on your computer asks to act as you." />
      <section className="panel" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Allow the CLI on {request.host}?</h2>
        <p>
          The Latchkey CLI on <strong>{request.host}</strong> will act as <strong>{email}</strong> for {CLI_TOKEN_DAYS} days, with a token of your own that you
          can revoke at any time. Allow it only if you just ran <code>latchkey login</code> and your terminal shows this code:
        </p>
        <p className="cli-code" aria-label="Code to compare with your terminal">
          {cliKeyCode(request.publicKey)}
        </p>
        <ErrorNote error={allow.error} title="The CLI could not be signed in" />
        {done === 'allowed' && <p role="status">Allowed: the CLI is signed in. Return to your terminal.</p>}
        {done === 'denied' && <p role="status">Denied: the CLI was not signed in.</p>}
        {done === null && (
          <div className="dialog__actions">
            <button
              type="button"
              className="button button--primary"
              disabled={allow.isPending}
              onClick={() => allow.mutate({ publicKey: request.publicKey, host: request.host })}
            >
              Allow
            </button>
            <button
              type="button"
              className="button"
              disabled={allow.isPending}
              onClick={() => {
                setDone('denied');
                window.location.assign(loopback(request.port, { state: request.state, error: 'access_denied' }));
              }}
            >
              Deny
            </button>
          </div>
        )}
      </section>
    </>
  );
}
