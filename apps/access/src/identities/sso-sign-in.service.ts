import { Inject, Injectable } from '@nestjs/common';
import { AppException, AttributeKey, diffFields, ErrorCode, GroupName } from '@latchkey/contracts';
import type { ClientInfo, SsoIdentity } from '@latchkey/contracts';
import { AuditService } from '../audit/audit.service';
import { DuplicateError, IdentitiesRepository } from './identities.repository';
import { IdentityChanges } from './identity-changes.repository';
import { auditEntry, toUserView, USER_AUDIT_FIELDS } from './identity-views';
import { sessionDeadlines } from './sign-in-policy';
import { SignInRepository } from './sign-in.repository';
import { SsoSettingsService } from './sso-settings.service';
import { clientDetails, SIGN_IN_OPTIONS, sessionUser, signInFailedEntry, userActor, userTarget } from './sign-in.service';
import type { SignInOptions } from './sign-in.service';

const MAX_NAME = 200;

/**
 * What the provider says becomes the user's: names it gives that are not valid Latchkey group
 * names or attribute keys are left out (and the audit entry lists them), never a failed sign-in.
 */
export function mapSsoProfile(identity: SsoIdentity): {
  groups: string[];
  attributes: Record<string, string>;
  ignoredGroups: string[];
  ignoredAttributes: string[];
} {
  const seen = new Set<string>();
  const groups: string[] = [];
  const ignoredGroups: string[] = [];
  for (const name of identity.groups) {
    if (!GroupName.safeParse(name).success) ignoredGroups.push(name);
    else if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      groups.push(name);
    }
  }
  const attributes: Record<string, string> = {};
  const ignoredAttributes: string[] = [];
  for (const [key, value] of Object.entries(identity.attributes)) {
    if (AttributeKey.safeParse(key).success) attributes[key] = value;
    else ignoredAttributes.push(key);
  }
  return { groups: groups.slice(0, 100), attributes, ignoredGroups: [...ignoredGroups, ...groups.slice(100)], ignoredAttributes };
}

/** `NO_ACCOUNT`: the person is unknown and OIDC_JIT is off (the sign-in page says to ask an administrator). */
const refused = (message: string, reason?: 'NO_ACCOUNT') => new AppException(ErrorCode.Forbidden, message, reason ? { reason } : undefined);

/**
 * Single sign-on: the gateway has validated the provider's ID token; here the person is found by
 * their provider account (issuer + subject), else by email (and linked), else created when
 * OIDC_JIT allows. Each sign-in refreshes their name, groups (the provider's list replaces
 * theirs) and attributes, and opens the same server-side session as a password sign-in.
 */
@Injectable()
export class SsoSignInService {
  constructor(
    @Inject(SIGN_IN_OPTIONS) private readonly options: SignInOptions,
    private readonly repository: SignInRepository,
    private readonly identities: IdentitiesRepository,
    private readonly audit: AuditService,
    private readonly changes: IdentityChanges,
    private readonly ssoSettings: SsoSettingsService,
  ) {}

  async signIn(request: { identity: SsoIdentity; sessionHash: string; previousSessionHash?: string; client: ClientInfo }) {
    try {
      const session = await this.open(request);
      this.changes.announce();
      return session;
    } catch (err) {
      if (err instanceof AppException && err.code === ErrorCode.Forbidden) {
        const { identity, client } = request;
        await this.audit.append(signInFailedEntry(identity.email, undefined, client, { method: 'oidc', issuer: identity.issuer, reason: err.message }));
      }
      if (err instanceof DuplicateError) throw new AppException(ErrorCode.Conflict, 'Another sign-in created this account at the same moment: sign in again.');
      throw err;
    }
  }

  private async open(request: { identity: SsoIdentity; sessionHash: string; previousSessionHash?: string; client: ClientInfo }) {
    const { identity, client } = request;
    const now = new Date();
    const profile = mapSsoProfile(identity);
    return this.identities.transaction(async (tx) => {
      const linkedId = await this.repository.userOfSsoIdentity(tx, identity.issuer, identity.subject);
      let before = linkedId ? await this.identities.lockUser(tx, linkedId) : null;
      if (!before) {
        const byEmail = await this.identities.findUserByEmail(identity.email, tx);
        if (byEmail) {
          const other = await this.repository.ssoSubjectOf(tx, byEmail.id, identity.issuer);
          // Another account at the same provider already is this user: an email reassigned there must not take it over.
          if (other && other !== identity.subject) throw refused(`${identity.email} is linked to another account at this identity provider.`);
          before = await this.identities.lockUser(tx, byEmail.id);
        }
      } else if (before.email.toLowerCase() !== identity.email.toLowerCase()) {
        const taken = await this.identities.findUserByEmail(identity.email, tx);
        if (taken && taken.id !== before.id) throw refused(`The identity provider now gives ${identity.email}, which another Latchkey user has.`);
      }
      if (before && !before.active) throw refused(`${before.email} is deactivated in Latchkey.`);
      if (!before && !(await this.ssoSettings.rules()).justInTime)
        throw refused(
          `No Latchkey user has the email ${identity.email}, and accounts are not created at sign-in (OIDC_JIT=false, or justInTime off in the single sign-on settings): ask an administrator.`,
          'NO_ACCOUNT',
        );

      const { groups, created } = await this.identities.ensureGroups(tx, profile.groups);
      const fields = {
        email: identity.email,
        name: (identity.name?.trim() || before?.name || identity.email).slice(0, MAX_NAME),
        attributes: { ...(before?.attributes ?? {}), ...profile.attributes },
        role: before?.role ?? ('user' as const),
      };
      const userId = before ? before.id : await this.identities.insertUser(tx, fields);
      if (before) await this.identities.updateUser(tx, userId, fields);
      await this.identities.setMemberships(
        tx,
        userId,
        groups.map((g) => g.id),
      );
      await this.repository.linkSsoIdentity(tx, { issuer: identity.issuer, subject: identity.subject, userId, at: now });
      const after = (await this.identities.findUser(userId, tx))!;
      const actor = userActor(after);
      const via = {
        via: 'oidc',
        issuer: identity.issuer,
        ...(profile.ignoredGroups.length ? { ignoredGroups: profile.ignoredGroups.slice(0, 50) } : {}),
        ...(profile.ignoredAttributes.length ? { ignoredAttributes: profile.ignoredAttributes.slice(0, 50) } : {}),
      };
      for (const group of created) {
        await this.audit.append(
          auditEntry('group.created', actor, { type: 'group', id: group.id, name: group.name }, diffFields(null, { name: group.name }, ['name']), {
            via: 'oidc groups claim',
          }),
          tx,
        );
      }
      if (!before) {
        await this.audit.append(
          auditEntry('user.created', actor, userTarget(after), diffFields(null, toUserView(after), USER_AUDIT_FIELDS), { ...via, justInTime: true }),
          tx,
        );
      } else {
        const diff = diffFields(toUserView(before), toUserView(after), USER_AUDIT_FIELDS);
        if (Object.keys(diff).length) await this.audit.append(auditEntry('user.updated', actor, userTarget(after), diff, via), tx);
        // Groups the provider no longer lists may have been what a grant or an approval rested on.
        if (before.groups.join('\n') !== after.groups.join('\n'))
          await this.changes.record(tx, [userId], `groups changed at single sign-on (${identity.issuer})`, actor);
      }

      if (request.previousSessionHash) await this.repository.deleteSession(tx, request.previousSessionHash);
      const sessionId = await this.repository.insertSession(tx, {
        userId,
        hash: request.sessionHash,
        at: now,
        address: client.address,
        userAgent: client.userAgent,
      });
      await this.audit.append(
        auditEntry('auth.signed-in', actor, userTarget(after), undefined, { sessionId, method: 'oidc', issuer: identity.issuer, ...clientDetails(client) }),
        tx,
      );
      const deadlines = sessionDeadlines(this.options.session, now, now);
      return { user: sessionUser(after), sessionId, expiresAt: deadlines.expiresAt.toISOString(), idleExpiresAt: deadlines.idleExpiresAt.toISOString() };
    });
  }
}
