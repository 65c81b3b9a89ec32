import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AppException, diffFields, ErrorCode } from '@latchkey/contracts';
import type { Actor, Group, GroupInput, User, UserInput } from '@latchkey/contracts';
import { AuditService } from '../audit/audit.service';
import type { Tx } from '../control-database/transactions.repository';
import { DuplicateError, IdentitiesRepository, UserFields } from './identities.repository';
import { SignInRepository } from './sign-in.repository';
import { TokensRepository } from './tokens.repository';
import { cutOffUser } from './cut-off';
import { IdentityChanges } from './identity-changes.repository';
import { auditEntry, GROUP_AUDIT_FIELDS, notFound, pageOf, pagePosition, toGroupView, toUserView, USER_AUDIT_FIELDS } from './identity-views';

type ValidUser = z.output<typeof UserInput>;
type ValidGroup = z.output<typeof GroupInput>;

const duplicateEmail = (email: string) =>
  new AppException(ErrorCode.Conflict, `A user with email ${email} already exists (emails are unique regardless of case).`, {
    issues: [{ field: 'email', rule: 'must be unique regardless of case' }],
  });
const duplicateGroup = (name: string) =>
  new AppException(ErrorCode.Conflict, `A group named "${name}" already exists (names are unique regardless of case).`, {
    issues: [{ field: 'name', rule: 'must be unique regardless of case' }],
  });

/** Names once each, regardless of case, keeping the first spelling. */
function distinctNames(names: string[]): string[] {
  const seen = new Map<string, string>();
  for (const name of names) if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), name);
  return [...seen.values()];
}

/**
 * Users and groups. A user's `groups` are names: a name no group has yet creates that group (and
 * the audit log says so), so provisioning users from a directory needs no second step. Every
 * change is appended to the audit log in the same transaction.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly identities: IdentitiesRepository,
    private readonly tokens: TokensRepository,
    private readonly signIn: SignInRepository,
    private readonly audit: AuditService,
    private readonly changes: IdentityChanges,
  ) {}

  /** Runs `work` in a transaction; people it recorded as changed are reviewed (grants, requests, approvals) once it commits. */
  private async changingPeople<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const result = await this.identities.transaction(work);
    this.changes.announce();
    return result;
  }

  async get(id: string): Promise<User> {
    const user = await this.identities.findUser(id);
    if (!user) throw notFound('user', id);
    return toUserView(user);
  }

  async list(query: { group?: string; q?: string; pageSize: number; pageToken?: string }): Promise<{ items: User[]; nextPageToken?: string }> {
    const after = pagePosition(query.pageToken);
    const rows = await this.identities.pageUsers({ group: query.group, q: query.q, after, limit: query.pageSize + 1 });
    return pageOf(rows, query.pageSize, toUserView);
  }

  async create(actor: Actor, input: ValidUser): Promise<User> {
    return this.identities.transaction(async (tx) => {
      if (await this.identities.findUserByEmail(input.email, tx)) throw duplicateEmail(input.email);
      const groups = await this.groupsFor(tx, actor, input.groups);
      const id = await this.save(input, (fields) => this.identities.insertUser(tx, fields));
      await this.identities.setMemberships(tx, id, groups);
      const user = (await this.identities.findUser(id, tx))!;
      await this.audit.append(
        auditEntry('user.created', actor, { type: 'user', id, name: user.email }, diffFields(null, toUserView(user), USER_AUDIT_FIELDS)),
        tx,
      );
      return toUserView(user);
    });
  }

  /** Replaces the user's fields and groups; the last admin cannot be demoted. A role change ends the user's browser sessions. */
  async update(actor: Actor, id: string, input: ValidUser): Promise<User> {
    return this.changingPeople(async (tx) => {
      const admins = await this.identities.lockAdmins(tx);
      const before = await this.identities.lockUser(tx, id);
      if (!before) throw notFound('user', id);
      if (before.role === 'admin' && input.role !== 'admin' && admins.length <= 1) throw lastAdmin('demote');
      const other = await this.identities.findUserByEmail(input.email, tx);
      if (other && other.id !== id) throw duplicateEmail(input.email);
      const groups = await this.groupsFor(tx, actor, input.groups);
      await this.save(input, (fields) => this.identities.updateUser(tx, id, fields));
      await this.identities.setMemberships(tx, id, groups);
      const after = (await this.identities.findUser(id, tx))!;
      const diff = diffFields(toUserView(before), toUserView(after), USER_AUDIT_FIELDS);
      const sessionsEnded = before.role !== after.role ? await this.signIn.deleteSessionsOf(tx, id) : 0;
      // Groups and attributes decide which flows let the person in and whom they approve for.
      if (diff.groups || diff.attributes) await this.changes.record(tx, [id], 'groups or attributes changed by an admin', actor);
      if (Object.keys(diff).length)
        await this.audit.append(
          auditEntry('user.updated', actor, { type: 'user', id, name: after.email }, diff, sessionsEnded ? { sessionsEnded } : undefined),
          tx,
        );
      return toUserView(after);
    });
  }

  /** Deletes the user, revokes their tokens and ends their sessions; their requests and audit entries stay. */
  async delete(actor: Actor, id: string): Promise<{ id: string }> {
    return this.changingPeople(async (tx) => {
      const admins = await this.identities.lockAdmins(tx);
      const user = await this.identities.lockUser(tx, id);
      if (!user) throw notFound('user', id);
      if (user.role === 'admin' && admins.length <= 1) throw lastAdmin('delete');
      const { revokedTokens, sessionsEnded } = await cutOffUser({ tokens: this.tokens, signIn: this.signIn, audit: this.audit }, tx, actor, id, 'user deleted');
      await this.changes.record(tx, [id], 'user deleted by an admin', actor);
      await this.identities.deleteUser(tx, id);
      await this.audit.append(
        auditEntry('user.deleted', actor, { type: 'user', id, name: user.email }, diffFields(toUserView(user), null, USER_AUDIT_FIELDS), {
          revokedTokens,
          sessionsEnded,
        }),
        tx,
      );
      return { id };
    });
  }

  /**
   * Deactivates or reactivates a user. A deactivated user cannot sign in (password or SSO), their
   * console sessions end and their API tokens are revoked at once, their database grants are revoked
   * and their pending requests rejected (the identity review, as for SCIM), they approve nothing and
   * no flow offers them anything; their requests and audit entries stay. Reactivating gives no token back.
   * The last active admin, and the caller themselves, cannot be deactivated.
   */
  async setActive(actor: Actor, id: string, active: boolean): Promise<User> {
    return this.changingPeople(async (tx) => {
      const admins = await this.identities.lockActiveAdmins(tx);
      const before = await this.identities.lockUser(tx, id);
      if (!before) throw notFound('user', id);
      if (before.active === active) return toUserView(before);
      if (!active && actor.id === id) {
        throw new AppException(ErrorCode.Conflict, 'You cannot deactivate yourself: ask another admin.', {
          issues: [{ field: 'id', rule: 'must not be the caller' }],
        });
      }
      if (!active && before.role === 'admin' && admins.filter((a) => a !== id).length === 0) {
        throw new AppException(ErrorCode.Conflict, 'Cannot deactivate the last active admin: make another user admin first.', {
          issues: [{ field: 'id', rule: 'at least one active admin must remain' }],
        });
      }
      await this.identities.setActive(tx, id, active);
      const ended = active ? undefined : await cutOffUser({ tokens: this.tokens, signIn: this.signIn, audit: this.audit }, tx, actor, id, 'user deactivated');
      if (!active) await this.changes.record(tx, [id], 'user deactivated by an admin', actor);
      const after = (await this.identities.findUser(id, tx))!;
      await this.audit.append(
        auditEntry(
          active ? 'user.reactivated' : 'user.deactivated',
          actor,
          { type: 'user', id, name: after.email },
          diffFields({ active: before.active }, { active }, ['active']),
          ended,
        ),
        tx,
      );
      return toUserView(after);
    });
  }

  async createGroup(actor: Actor, input: ValidGroup): Promise<Group> {
    return this.identities.transaction(async (tx) => {
      let group;
      try {
        group = await this.identities.insertGroup(tx, input.name, input.description ?? null, input.managedBy ?? null);
      } catch (err) {
        if (err instanceof DuplicateError) throw duplicateGroup(input.name);
        throw err;
      }
      await this.audit.append(
        auditEntry(
          'group.created',
          actor,
          { type: 'group', id: group.id, name: group.name },
          diffFields(null, { name: group.name, description: group.description }, ['name', 'description']),
        ),
        tx,
      );
      return toGroupView(group);
    });
  }

  /** Replaces the description (and the marker when given); the name must stay, since flows and approvers name the group. */
  async updateGroup(actor: Actor, id: string, input: ValidGroup): Promise<Group> {
    return this.identities.transaction(async (tx) => {
      const before = await this.identities.lockGroup(tx, id);
      if (!before) throw notFound('group', id);
      if (before.name.toLowerCase() !== input.name.toLowerCase()) {
        throw AppException.validation([
          { field: 'name', rule: `must be the group's name (${before.name}): flows and approvers name groups, so a group is not renamed` },
        ]);
      }
      await this.identities.updateGroup(tx, id, input.description ?? null, input.managedBy);
      const after = (await this.identities.findGroup(id, tx))!;
      const diff = diffFields(toGroupView(before), toGroupView(after), GROUP_AUDIT_FIELDS);
      if (Object.keys(diff).length) await this.audit.append(auditEntry('group.updated', actor, { type: 'group', id, name: after.name }, diff), tx);
      return toGroupView(after);
    });
  }

  /** Deletes the group and its memberships; its former members' grants, requests and approvals are reviewed. */
  async deleteGroup(actor: Actor, id: string): Promise<{ id: string }> {
    return this.changingPeople(async (tx) => {
      const group = await this.identities.lockGroup(tx, id);
      if (!group) throw notFound('group', id);
      const members = await this.identities.deleteGroup(tx, id);
      if (members.length) await this.changes.record(tx, members, `group ${group.name} deleted by an admin`, actor);
      await this.audit.append(
        auditEntry('group.deleted', actor, { type: 'group', id, name: group.name }, diffFields(toGroupView(group), null, GROUP_AUDIT_FIELDS), {
          membersRemoved: members,
        }),
        tx,
      );
      return { id };
    });
  }

  async listGroups(query: { pageSize: number; pageToken?: string }): Promise<{ items: Group[]; nextPageToken?: string }> {
    const rows = await this.identities.pageGroups({ after: pagePosition(query.pageToken), limit: query.pageSize + 1 });
    return pageOf(rows, query.pageSize, toGroupView);
  }

  /** Ids of the named groups, creating (and auditing) the ones that do not exist yet. */
  private async groupsFor(tx: Tx, actor: Actor, names: string[]): Promise<string[]> {
    const { groups, created } = await this.identities.ensureGroups(tx, distinctNames(names));
    for (const group of created) {
      await this.audit.append(
        auditEntry('group.created', actor, { type: 'group', id: group.id, name: group.name }, diffFields(null, { name: group.name }, ['name']), {
          via: 'user groups',
        }),
        tx,
      );
    }
    return groups.map((g) => g.id);
  }

  /** Writes the user's own fields; a concurrent user with the same email is a 409 too. */
  private async save<T>(input: ValidUser, write: (fields: UserFields) => Promise<T>): Promise<T> {
    try {
      return await write({ email: input.email, name: input.name, attributes: input.attributes, role: input.role, managedBy: input.managedBy });
    } catch (err) {
      if (err instanceof DuplicateError) throw duplicateEmail(input.email);
      throw err;
    }
  }
}

const lastAdmin = (verb: 'demote' | 'delete') =>
  new AppException(ErrorCode.Conflict, `Cannot ${verb} the last admin: make another user admin first.`, {
    issues: [{ field: verb === 'demote' ? 'role' : 'id', rule: 'at least one admin must remain' }],
  });
