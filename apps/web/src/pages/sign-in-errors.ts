/**
 * What the sign-in page says when single sign-on sent the browser back with `?error=<code>` (the
 * gateway's OIDC callback). Only known codes are shown: the page never prints text from the URL.
 */
const MESSAGES: Record<string, string> = {
  OIDC_NO_ACCOUNT:
    'Your identity provider signed you in, but Latchkey has no account for your email and does not create accounts at sign-in. Ask a Latchkey administrator to add you.',
  OIDC_NOT_ALLOWED:
    'Your identity provider signed you in, but Latchkey does not let this account in (it is deactivated, or another account at the provider is linked to it). Ask a Latchkey administrator.',
  OIDC_REFUSED:
    'Single sign-on was refused: the answer from your identity provider did not pass Latchkey’s checks (for example an unverified email). Try again, or ask an administrator.',
  OIDC_FLOW_INVALID: 'That single sign-on attempt expired or was started in another browser. Start again.',
  OIDC_PROVIDER_ERROR: 'Your identity provider did not sign you in. Try again.',
  OIDC_UNAVAILABLE: 'Your identity provider does not answer right now. Try again in a moment.',
  OIDC_RETRY: 'Signing you in collided with another sign-in of the same account. Try again.',
};

export function signInErrorMessage(code: string | null): string | null {
  if (!code) return null;
  return Object.hasOwn(MESSAGES, code) ? MESSAGES[code] : 'Single sign-on did not complete. Try again.';
}
