import { z } from 'zod';
import { Actor, ActorSource, Impersonator } from './audit';
import { defineRequest } from './contract';
import { Page, listOf } from './integrations';
import { ManagedBy } from './managed';
import { text } from './text';

export const UserRole = z.enum(['admin', 'user']);
export type UserRole = z.infer<typeof UserRole>;

export const GROUP_NAME_RULE = 'must be 1-100 characters of letters, digits, ., _ and -';
export const GroupName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, GROUP_NAME_RULE);
export const ATTRIBUTE_KEY_RULE = 'must be 1-64 characters of letters, digits and _, starting with a letter';
export const AttributeKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, ATTRIBUTE_KEY_RULE);
export const Email = z.string().trim().toLowerCase().max(320, 'must be at most 320 characters').email('must be an email address');

export const UserInput = z
  .object({
    email: Email,
    name: text({ trim: true, min: 1, max: 200 }),
    groups: z.array(GroupName).max(100, 'must list at most 100 groups').default([]),
    attributes: z.record(AttributeKey, text({ max: 500 })).default({}),
    role: UserRole.default('user'),
    managedBy: ManagedBy,
  })
  .strict();
export type UserInput = z.input<typeof UserInput>;

export const User = z.object({
  id: z.string().uuid(),
  email: z.string(),
  name: z.string(),
  groups: z.array(z.string()),
  attributes: z.record(z.string(), z.string()),
  role: UserRole,
  /** False once deactivated: no sign-in, no sessions, no tokens, approves nothing. */
  active: z.boolean(),
  /** The config file that manages the user (`latchkey apply`), or null. */
  managedBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type User = z.infer<typeof User>;

export const GroupInput = z.object({ name: GroupName, description: text({ max: 500 }).optional(), managedBy: ManagedBy }).strict();
export type GroupInput = z.input<typeof GroupInput>;
export const Group = z.object({
  id: z.string().uuid(),
  name: z.string(),
  description: z.string().nullable(),
  members: z.number().int(),
  /** The config file that manages the group (`latchkey apply`), or null. */
  managedBy: z.string().nullable(),
  createdAt: z.string(),
});
export type Group = z.infer<typeof Group>;

export const TokenInput = z
  .object({
    userId: z.string().uuid('must be a UUID'),
    name: text({ trim: true, min: 1, max: 100 }),
    expiresInDays: z.number().int('must be a whole number').min(1, 'must be at least 1').max(3650, 'must be at most 3650').optional(),
  })
  .strict();
export type TokenInput = z.input<typeof TokenInput>;

export const Token = z.object({
  id: z.string().uuid(),
  userId: z.string().uuid(),
  name: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  /** The admin who made this token for its owner (impersonation); null for a person's own token. */
  impersonatedBy: Impersonator.nullable(),
});
export type Token = z.infer<typeof Token>;
/** The only answer that ever holds the token itself. */
export const TokenCreated = Token.extend({ token: z.string() });

/** The person behind a request, as the gateway authenticated them. */
export const Caller = z.object({
  userId: z.string().uuid(),
  email: z.string(),
  role: UserRole,
  groups: z.array(z.string()),
  attributes: z.record(z.string(), z.string()),
  /** Set when the token was made by an admin for this person: every audit entry names that admin too. */
  impersonatedBy: Impersonator.optional(),
  /** The tool that made the call, as the gateway heard it (recorded in the audit log). */
  source: ActorSource.optional(),
});
export type Caller = z.infer<typeof Caller>;

/** How the audit log names a caller: the token's owner, and the admin who made the token when it was made for them. */
export const actorOfCaller = (caller: Caller): Actor => ({
  type: 'user',
  id: caller.userId,
  email: caller.email,
  ...(caller.impersonatedBy ? { impersonatedBy: caller.impersonatedBy } : {}),
  ...(caller.source ? { source: caller.source } : {}),
});
/** A reference to people by `user` (emails), `group` (names) or an attribute, as approvers and owners name them. */
export const PeopleReference = z.object({ attribute: z.string().min(1).max(64), values: z.array(z.string().max(500)).max(200) });
export type PeopleReference = z.infer<typeof PeopleReference>;

const ById = z.object({ id: z.string().uuid('must be a UUID') });
const WithActor = z.object({ actor: Actor });

/** Users, groups and API tokens, kept by the access service. */
export const IdentityContracts = {
  /** The gateway sends the SHA-256 of a presented bearer token; never the token. */
  accessAuthAuthenticate: defineRequest(
    'access.auth.authenticate',
    z.object({ tokenHash: z.string().regex(/^[0-9a-f]{64}$/) }),
    z.object({ caller: Caller, tokenId: z.string().uuid(), expiresAt: z.string().nullable() }).nullable(),
  ),
  accessUsersCreate: defineRequest('access.users.create', WithActor.extend({ input: UserInput }), User),
  accessUsersList: defineRequest('access.users.list', z.object({ group: GroupName.optional(), q: text({ max: 200 }).optional(), ...Page }), listOf(User)),
  accessUsersGet: defineRequest('access.users.get', ById, User),
  accessUsersUpdate: defineRequest('access.users.update', WithActor.extend(ById.shape).extend({ input: UserInput }), User),
  /** Removes the user and revokes their tokens; their access requests and audit entries stay. */
  accessUsersDelete: defineRequest('access.users.delete', WithActor.extend(ById.shape), ById),
  /** Deactivates (ends sessions, revokes tokens) or reactivates a user; audited as user.deactivated / user.reactivated. */
  accessUsersSetActive: defineRequest('access.users.set-active', WithActor.extend(ById.shape).extend({ active: z.boolean() }), User),
  accessGroupsCreate: defineRequest('access.groups.create', WithActor.extend({ input: GroupInput }), Group),
  accessGroupsList: defineRequest('access.groups.list', z.object(Page), listOf(Group)),
  /** Replaces a group's description (and marker); its name stays, since flows and approvers name it. */
  accessGroupsUpdate: defineRequest('access.groups.update', WithActor.extend(ById.shape).extend({ input: GroupInput }), Group),
  /** Removes the group and its memberships; its former members' grants and requests are reviewed. */
  accessGroupsDelete: defineRequest('access.groups.delete', WithActor.extend(ById.shape), ById),
  /** Tokens: people manage their own, admins anyone's; the access service checks the actor's role itself. */
  accessTokensCreate: defineRequest('access.tokens.create', WithActor.extend({ input: TokenInput }), TokenCreated),
  /** Without `userId`: every token for an admin actor, the actor's own for anyone else. */
  accessTokensList: defineRequest('access.tokens.list', WithActor.extend({ userId: z.string().uuid('must be a UUID').optional(), ...Page }), listOf(Token)),
  accessTokensRevoke: defineRequest('access.tokens.revoke', WithActor.extend(ById.shape), Token),
  /** How many people each value of each reference names now (`counts[i][j]` for `references[i].values[j]`). */
  accessPeopleCount: defineRequest(
    'access.people.count',
    z.object({ references: z.array(PeopleReference).max(50) }),
    z.object({ counts: z.array(z.array(z.number().int())) }),
  ),
} as const;
