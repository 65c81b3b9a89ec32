import { z } from 'zod';
import { Actor } from './audit';
import { defineRequest } from './contract';
import { Caller, Email, UserRole } from './identities';
import { text } from './text';

/** The password rule, one wording for the API and the web form. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;
export const NewPassword = text({ min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH });

/** What a person types to sign in; the stored password is checked, not today's rule. */
export const SignInInput = z
  .object({
    email: Email,
    password: text({ min: 1, max: PASSWORD_MAX_LENGTH }),
  })
  .strict();
export type SignInInput = z.input<typeof SignInInput>;

/** Sets a password with the token of a one-time link (invite, reset, bootstrap). */
export const SetPasswordInput = z
  .object({
    token: text({ min: 1, max: 200 }),
    password: NewPassword,
  })
  .strict();
export type SetPasswordInput = z.input<typeof SetPasswordInput>;

/** The signed-in person, as the browser shows them. */
export const SessionUser = z.object({ id: z.string().uuid(), email: z.string(), name: z.string(), role: UserRole, groups: z.array(z.string()) });
export type SessionUser = z.infer<typeof SessionUser>;

/** A session's two deadlines: `expiresAt` (absolute) and `idleExpiresAt` (moves with each use, never past `expiresAt`). */
export const SessionDeadlines = z.object({ expiresAt: z.string(), idleExpiresAt: z.string() });

/** `POST /api/v1/auth/sign-in` and `GET /api/v1/auth/session` answer this. */
export const SessionAnswer = SessionDeadlines.extend({ user: SessionUser, csrfToken: z.string() });
export type SessionAnswer = z.infer<typeof SessionAnswer>;

export const PasswordLinkPurpose = z.enum(['invite', 'reset', 'bootstrap']);
export type PasswordLinkPurpose = z.infer<typeof PasswordLinkPurpose>;
/** `POST /api/v1/users/{id}/invite|reset-password` answer this, once. */
export const PasswordLinkAnswer = z.object({ url: z.string(), expiresAt: z.string() });

/** Where a browser request came from, for throttling and the audit log. */
export const ClientInfo = z.object({ address: z.string().max(100), userAgent: z.string().max(500).optional() });
export type ClientInfo = z.infer<typeof ClientInfo>;

/** SHA-256 (hex) of a session id: the id itself stays in the cookie and the gateway. */
const SessionHash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
/** A one-time link's token, answered once to whoever asked for the link; kept as SHA-256 only. */
const LinkToken = z.object({ token: z.string(), expiresAt: z.string() });

/**
 * A person as an OpenID Provider vouched for them: the gateway validated the ID token (signature,
 * issuer, audience, expiry, nonce) and read the claims; `groups` and `attributes` are already
 * mapped (OIDC_GROUPS_CLAIM; other plain claims).
 */
export const SsoIdentity = z.object({
  issuer: z.string().min(1).max(500),
  subject: z.string().min(1).max(255),
  email: Email,
  name: z.string().max(200).optional(),
  groups: z.array(z.string().max(200)).max(1000),
  attributes: z.record(z.string().max(200), z.string().max(500)),
});
export type SsoIdentity = z.infer<typeof SsoIdentity>;

/** Passwords, sessions and one-time links of people signing in with a browser, kept by the access service. */
export const SignInContracts = {
  /** Checks the password (throttled per account and per address) and opens a session under `sessionHash`. */
  accessSessionsCreate: defineRequest(
    'access.sessions.create',
    z.object({ input: SignInInput, sessionHash: SessionHash, previousSessionHash: SessionHash.optional(), client: ClientInfo }),
    SessionDeadlines.extend({ user: SessionUser, sessionId: z.string().uuid() }),
  ),
  /** Single sign-on: finds (or creates, when allowed) the person, refreshes their name, groups and attributes, and opens a session. */
  accessSessionsCreateSso: defineRequest(
    'access.sessions.create-sso',
    z.object({ identity: SsoIdentity, sessionHash: SessionHash, previousSessionHash: SessionHash.optional(), client: ClientInfo }),
    SessionDeadlines.extend({ user: SessionUser, sessionId: z.string().uuid() }),
  ),
  /** The live session with this hash (its idle deadline moved on), or null. */
  accessSessionsAuthenticate: defineRequest(
    'access.sessions.authenticate',
    z.object({ sessionHash: SessionHash }),
    SessionDeadlines.extend({ caller: Caller, name: z.string(), sessionId: z.string().uuid() }).nullable(),
  ),
  /** Ends this session, or every session of its user; answers how many ended. */
  accessSessionsEnd: defineRequest(
    'access.sessions.end',
    z.object({ sessionHash: SessionHash, everywhere: z.boolean(), actor: Actor, client: ClientInfo }),
    z.object({ userId: z.string().uuid(), ended: z.number().int() }),
  ),
  /** Sets a password with a one-time link's token; ends the user's sessions. */
  accessPasswordsSet: defineRequest('access.passwords.set', z.object({ input: SetPasswordInput, client: ClientInfo }), z.object({ userId: z.string().uuid() })),
  /** A one-time link for a user (admins: invite or reset); earlier unused links of the user stop working. */
  accessPasswordLinksCreate: defineRequest(
    'access.password-links.create',
    z.object({ actor: Actor, id: z.string().uuid('must be a UUID'), purpose: z.enum(['invite', 'reset']) }),
    LinkToken,
  ),
  /** `npm start`: a one-time link for the bootstrap admin while they have no password (null once they do). */
  accessPasswordLinksBootstrap: defineRequest('access.password-links.bootstrap', z.object({}).strict(), LinkToken.extend({ email: z.string() }).nullable()),
} as const;

/** The one-time link people open: the token rides in the fragment, so it never reaches a server log or a Referer. */
export const setPasswordUrl = (baseUrl: string, token: string): string => `${baseUrl.replace(/\/+$/, '')}/set-password#token=${encodeURIComponent(token)}`;

/**
 * `latchkey login` through the browser. The CLI makes a one-time X25519 key pair and opens the
 * console's `/cli/sign-in` page with the public key and its loopback port; the signed-in person
 * allows it there, and the gateway answers a new API token sealed to that key (ephemeral X25519,
 * HKDF-SHA256 with this info, AES-256-GCM): the browser carries it to the CLI's loopback
 * listener without being able to read it, so it never sits readable in a page, a history entry or a log.
 */
export const CLI_SIGN_IN_INFO = 'latchkey-cli-sign-in-v1';
/** How long a token made by `latchkey login` lasts (the person signs in again after). */
export const CLI_TOKEN_DAYS = 30;
export const CliPublicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an X25519 public key (32 bytes in base64url)');
export const CliSignInInput = z
  .object({
    publicKey: CliPublicKey,
    /** The computer the CLI runs on, as it names itself: it becomes part of the token's name. */
    host: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, dots, dashes or underscores'),
  })
  .strict();
export type CliSignInInput = z.input<typeof CliSignInInput>;
/** The token, sealed: base64url of ephemeral public key (32) | IV (12) | tag (16) | ciphertext. */
export const CliSignInAnswer = z.object({ sealedToken: z.string(), tokenId: z.string().uuid(), name: z.string(), expiresAt: z.string().nullable() });
export type CliSignInAnswer = z.infer<typeof CliSignInAnswer>;

/**
 * Eight characters both the terminal and the sign-in page show for a CLI public key, so a person
 * can tell that the login they allow is the one they started. Plain JavaScript: runs in the browser too.
 */
export function cliKeyCode(publicKey: string): string {
  const raw = atob(
    publicKey
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(publicKey.length / 4) * 4, '='),
  );
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let code = '';
  for (let i = 0; i < 8; i += 1) code += letters[raw.charCodeAt(i) % letters.length];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
