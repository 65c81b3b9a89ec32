import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AppException, ErrorCode, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { Actor, Caller, ClientInfo, PasswordLinkPurpose, SessionUser } from '@latchkey/contracts';
import type { AccessEnv } from '@latchkey/config';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { AuditService } from '../audit/audit.service';
import type { Tx } from '../control-database/transactions.repository';
import { hashToken } from './api-token';
import { IdentitiesRepository, UserRow } from './identities.repository';
import { auditEntry, notFound } from './identity-views';
import { hashPassword, needsRehash, verifyPassword } from './password-hash';
import { liveSince, retryAfterMs, retryAfterSeconds, sessionDeadlines } from './sign-in-policy';
import type { SessionPolicy, ThrottleRule } from './sign-in-policy';
import { SignInRepository } from './sign-in.repository';
import { SsoSettingsService } from './sso-settings.service';

export const SIGN_IN_OPTIONS = Symbol('SIGN_IN_OPTIONS');
export interface SignInOptions {
  session: SessionPolicy;
  perAccount: ThrottleRule;
  perAddress: ThrottleRule;
  linkMs: Record<PasswordLinkPurpose, number>;
  /** LATCHKEY_ADMIN_EMAIL: whose link `npm start` prints, and the break-glass admin when SSO is required. */
  adminEmail: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export function signInOptionsFrom(env: AccessEnv): SignInOptions {
  const windowMs = env.SIGN_IN_FAILURE_WINDOW_MINUTES * MINUTE_MS;
  return {
    session: { idleMs: env.SESSION_IDLE_MINUTES * MINUTE_MS, maxMs: env.SESSION_MAX_HOURS * HOUR_MS },
    perAccount: { limit: env.SIGN_IN_MAX_FAILURES_PER_ACCOUNT, windowMs },
    perAddress: { limit: env.SIGN_IN_MAX_FAILURES_PER_ADDRESS, windowMs },
    linkMs: { invite: env.INVITE_LINK_HOURS * HOUR_MS, reset: env.RESET_LINK_HOURS * HOUR_MS, bootstrap: env.RESET_LINK_HOURS * HOUR_MS },
    adminEmail: env.LATCHKEY_ADMIN_EMAIL.toLowerCase(),
  };
}

/** `lkl_` and 32 random bytes: the token of a one-time set-password link. */
const generateLinkToken = (): string => `lkl_${randomBytes(32).toString('base64url')}`;

const invalidCredentials = () => new AppException(ErrorCode.InvalidCredentials, 'Email or password is wrong.');
const linkInvalid = () =>
  new AppException(
    ErrorCode.LinkInvalid,
    'This link is not valid: it was already used, it expired, or a newer one replaced it. Ask an administrator for a new one.',
    {
      issues: [{ field: 'token', rule: 'must be the token of an unused, unexpired link' }],
    },
  );

export const userActor = (user: { id: string; email: string }): Actor => ({ type: 'user', id: user.id, email: user.email });
export const userTarget = (user: { id: string; email: string }) => ({ type: 'user', id: user.id, name: user.email });
export const clientDetails = (client: ClientInfo) => ({ address: client.address, ...(client.userAgent ? { userAgent: client.userAgent } : {}) });
/** The audit entry of a refused sign-in (password or single sign-on): the person by the email given, and by their id once known. */
export const signInFailedEntry = (email: string, userId: string | undefined, client: ClientInfo, details: Record<string, unknown>) =>
  auditEntry(
    'auth.sign-in-failed',
    { type: 'user', id: userId ?? 'unknown', email },
    { type: 'user', id: userId ?? email.slice(0, 200), name: email },
    undefined,
    { ...details, ...clientDetails(client) },
  );
export const sessionUser = (u: Pick<UserRow, 'id' | 'email' | 'name' | 'role' | 'groups'>): SessionUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  groups: u.groups,
});

function waitText(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/**
 * People signing in with a browser: passwords (scrypt), server-side sessions, throttling of
 * failed sign-ins, one-time set-password links. Unknown emails, users without a password and wrong
 * passwords get the same answer after the same work (a dummy hash is checked), and count against
 * the typed email and the client address alike. Every sign-in, failure, sign-out, password change,
 * invite and reset is in the audit log.
 */
@Injectable()
export class SignInService implements OnModuleInit {
  private dummyHash!: Promise<string>;

  constructor(
    @Inject(SIGN_IN_OPTIONS) private readonly options: SignInOptions,
    private readonly repository: SignInRepository,
    private readonly identities: IdentitiesRepository,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: AppLogger,
    private readonly ssoSettings: SsoSettingsService,
  ) {}

  onModuleInit(): void {
    // Checked in place of a missing hash, so an unknown email costs what a wrong password costs.
    this.dummyHash = hashPassword(randomBytes(24).toString('base64'));
  }

  async signIn(request: { input: { email: string; password: string }; sessionHash: string; previousSessionHash?: string; client: ClientInfo }) {
    const { input, client } = request;
    const now = new Date();
    if (input.email.toLowerCase() !== this.options.adminEmail && (await this.ssoSettings.rules()).requireSso) {
      await this.audit.append(
        signInFailedEntry(input.email, undefined, client, {
          reason: 'password sign-in is turned off (AUTH_REQUIRE_SSO, or requireSso in the single sign-on settings)',
        }),
      );
      throw new AppException(ErrorCode.SsoRequired, 'Sign in with single sign-on: passwords are turned off here.');
    }
    // The attempt counts as a failure before the password is checked, so concurrent attempts see
    // each other: however many are sent at once, no more than the limit get a password checked.
    const attempt = await this.repository.insertFailure(input.email, client.address, now);
    try {
      await this.refuseWhenThrottled(input.email, client.address, now, attempt);
    } catch (err) {
      // A refused attempt does not count: it would only lengthen the lock-out.
      await this.repository.deleteFailure(attempt);
      throw err;
    }

    const found = await this.identities.findUserByEmail(input.email);
    // A deactivated user is answered like an unknown one.
    const user = found?.active ? found : null;
    const stored = user ? await this.repository.passwordHash(user.id) : null;
    const matches = await verifyPassword(input.password, stored ?? (await this.dummyHash));
    if (!user || !stored || !matches) {
      const reason = found && !found.active ? 'user deactivated' : !user ? 'unknown email' : !stored ? 'no password set' : 'wrong password';
      await this.repository.pruneFailures(new Date(now.getTime() - Math.max(this.options.perAccount.windowMs, this.options.perAddress.windowMs)));
      await this.audit.append(signInFailedEntry(input.email, user?.id, client, { reason }));
      throw invalidCredentials();
    }

    const rehashed = needsRehash(stored) ? await hashPassword(input.password) : null;
    return this.identities.transaction(async (tx) => {
      // The account's failures go, this attempt's record with them.
      await this.repository.clearAccountFailures(tx, input.email);
      // No fixation: the browser's earlier session (if any) ends; the new one has a new id.
      if (request.previousSessionHash) await this.repository.deleteSession(tx, request.previousSessionHash);
      await this.repository.deleteDeadSessionsOf(tx, user.id, liveSince(this.options.session, now));
      if (rehashed) await this.repository.setPasswordHash(tx, user.id, rehashed);
      const sessionId = await this.repository.insertSession(tx, {
        userId: user.id,
        hash: request.sessionHash,
        at: now,
        address: client.address,
        userAgent: client.userAgent,
      });
      await this.audit.append(
        auditEntry('auth.signed-in', userActor(user), userTarget(user), undefined, {
          sessionId,
          method: 'password',
          ...clientDetails(client),
          ...(rehashed ? { passwordRehashed: true } : {}),
        }),
        tx,
      );
      const deadlines = sessionDeadlines(this.options.session, now, now);
      return { user: sessionUser(user), sessionId, expiresAt: deadlines.expiresAt.toISOString(), idleExpiresAt: deadlines.idleExpiresAt.toISOString() };
    });
  }

  /** The caller behind a live session, whose idle deadline moves on; null when it ended or never was. */
  async authenticate(sessionHash: string): Promise<{ caller: Caller; name: string; sessionId: string; expiresAt: string; idleExpiresAt: string } | null> {
    const now = new Date();
    const owner = await this.repository.touchSession(sessionHash, now, liveSince(this.options.session, now));
    if (!owner) return null;
    const { user } = owner;
    const deadlines = sessionDeadlines(this.options.session, owner.createdAt, owner.lastSeenAt);
    return {
      caller: { userId: user.id, email: user.email, role: user.role, groups: user.groups, attributes: user.attributes },
      name: user.name,
      sessionId: owner.sessionId,
      expiresAt: deadlines.expiresAt.toISOString(),
      idleExpiresAt: deadlines.idleExpiresAt.toISOString(),
    };
  }

  /** Ends this session, or (everywhere) every session of its user. */
  async signOut(request: { sessionHash: string; everywhere: boolean; actor: Actor; client: ClientInfo }): Promise<{ userId: string; ended: number }> {
    return this.identities.transaction(async (tx) => {
      const session = await this.repository.findSession(request.sessionHash, tx);
      if (!session) throw new AppException(ErrorCode.Unauthenticated, 'This session has already ended.');
      const user = await this.identities.findUser(session.userId, tx);
      const target = user ? userTarget(user) : { type: 'user', id: session.userId };
      if (request.everywhere) {
        const ended = await this.repository.deleteSessionsOf(tx, session.userId);
        await this.audit.append(
          auditEntry('auth.signed-out-everywhere', request.actor, target, undefined, { sessionsEnded: ended, ...clientDetails(request.client) }),
          tx,
        );
        return { userId: session.userId, ended };
      }
      await this.repository.deleteSession(tx, request.sessionHash);
      await this.audit.append(auditEntry('auth.signed-out', request.actor, target, undefined, { sessionId: session.id, ...clientDetails(request.client) }), tx);
      return { userId: session.userId, ended: 1 };
    });
  }

  /** Spends a one-time link: sets the password, ends the user's sessions and their other links. */
  async setPassword(request: { input: { token: string; password: string }; client: ClientInfo }): Promise<{ userId: string }> {
    const now = new Date();
    const tokenHash = hashToken(request.input.token);
    // Checked first: an invalid token costs no scrypt run.
    if (!(await this.repository.findUsableLink(tokenHash, now))) throw linkInvalid();
    const passwordHash = await hashPassword(request.input.password);
    return this.identities.transaction(async (tx) => {
      const link = await this.repository.useLink(tx, tokenHash, now);
      if (!link) throw linkInvalid();
      const user = await this.identities.lockUser(tx, link.userId);
      if (!user) throw linkInvalid();
      const hadPassword = (await this.repository.passwordHash(user.id, tx)) !== null;
      await this.repository.setPasswordHash(tx, user.id, passwordHash);
      const ended = await this.repository.deleteSessionsOf(tx, user.id);
      await this.repository.deleteUnusedLinksOf(tx, user.id);
      await this.repository.clearAccountFailures(tx, user.email);
      await this.audit.append(
        auditEntry(
          'auth.password-changed',
          userActor(user),
          userTarget(user),
          { password: { ...(hadPassword ? { before: 'set' } : {}), after: 'set' } },
          { via: link.purpose, sessionsEnded: ended, ...clientDetails(request.client) },
        ),
        tx,
      );
      return { userId: user.id };
    });
  }

  /** An admin's invite or reset link for a user: the token is answered here, once. */
  async createLink(actor: Actor, userId: string, purpose: 'invite' | 'reset'): Promise<{ token: string; expiresAt: string }> {
    return this.identities.transaction(async (tx) => {
      const user = await this.identities.lockUser(tx, userId);
      if (!user) throw notFound('user', userId);
      if (purpose === 'invite' && (await this.repository.passwordHash(user.id, tx)) !== null) {
        throw new AppException(ErrorCode.Conflict, `${user.email} has already set a password: reset it instead.`, {
          issues: [{ field: 'id', rule: 'must be a user without a password (use reset-password for the others)' }],
        });
      }
      return this.issueLink(tx, actor, user, purpose);
    });
  }

  /** The bootstrap admin's link while they have no password; null once they have one. */
  async bootstrapLink(): Promise<{ email: string; token: string; expiresAt: string } | null> {
    return this.identities.transaction(async (tx) => {
      const user = await this.identities.findUserByEmail(this.options.adminEmail, tx);
      if (!user) return null;
      const locked = (await this.identities.lockUser(tx, user.id))!;
      if ((await this.repository.passwordHash(locked.id, tx)) !== null) return null;
      return { email: locked.email, ...(await this.issueLink(tx, SYSTEM_ACTOR, locked, 'bootstrap')) };
    });
  }

  private async issueLink(tx: Tx, actor: Actor, user: UserRow, purpose: PasswordLinkPurpose) {
    const token = generateLinkToken();
    const expiresAt = new Date(Date.now() + this.options.linkMs[purpose]);
    await this.repository.deleteUnusedLinksOf(tx, user.id);
    await this.repository.insertLink(tx, { userId: user.id, purpose, hash: hashToken(token), expiresAt });
    const action = purpose === 'reset' ? 'user.password-reset' : 'user.invited';
    await this.audit.append(
      auditEntry(action, actor, userTarget(user), undefined, {
        linkExpiresAt: expiresAt.toISOString(),
        ...(purpose === 'bootstrap' ? { bootstrap: true } : {}),
      }),
      tx,
    );
    return { token, expiresAt: expiresAt.toISOString() };
  }

  private async refuseWhenThrottled(account: string, address: string, now: Date, attempt: string): Promise<void> {
    const { perAccount, perAddress } = this.options;
    const [byAccount, byAddress] = await Promise.all([
      this.repository.recentFailures('account', account, new Date(now.getTime() - perAccount.windowMs), perAccount.limit, attempt),
      this.repository.recentFailures('address', address, new Date(now.getTime() - perAddress.windowMs), perAddress.limit, attempt),
    ]);
    const waits = [retryAfterMs(byAccount, perAccount, now), retryAfterMs(byAddress, perAddress, now)].filter((w): w is number => w !== null);
    if (!waits.length) return;
    const seconds = retryAfterSeconds(Math.max(...waits));
    this.logger.warn({ address, retryAfterSeconds: seconds }, 'sign-in refused: too many failures for the account or the address');
    throw new AppException(ErrorCode.TooManyAttempts, `Too many failed sign-ins for this account or from this address. Try again in ${waitText(seconds)}.`, {
      retryAfterSeconds: seconds,
    });
  }
}
