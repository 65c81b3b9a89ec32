import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppException, diffFields, Email, ErrorCode, GroupName } from '@latchkey/contracts';
import type { Actor, ScimAnswer, ScimCall, ScimToken } from '@latchkey/contracts';
import { AuditService } from '../audit/audit.service';
import type { Tx } from '../control-database/transactions.repository';
import { hashToken } from './api-token';
import { DuplicateError, IdentitiesRepository, UserRow } from './identities.repository';
import { cutOffUser } from './cut-off';
import { IdentityChanges } from './identity-changes.repository';
import { auditEntry, toUserView, USER_AUDIT_FIELDS } from './identity-views';
import { memberIds, memberPathId, pageOf, parseEqFilter, patchOperations, SCIM_GROUP, SCIM_LIST, SCIM_USER, ScimError, scimBoolean } from './scim-protocol';
import { GROUP_FILTER_COLUMNS, ScimGroupRow, ScimRepository, ScimTokenRow, USER_FILTER_COLUMNS } from './scim.repository';
import { SignInRepository } from './sign-in.repository';
import { TokensRepository } from './tokens.repository';

const MAX_PAGE = 200;

/** `lks_` and 32 random bytes: a SCIM client's bearer token. */
const generateScimToken = (): string => `lks_${randomBytes(32).toString('base64url')}`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const toScimTokenView = (t: ScimTokenRow): ScimToken => ({
  id: t.id,
  name: t.name,
  createdAt: iso(t.createdAt)!,
  createdBy: t.createdBy,
  lastUsedAt: iso(t.lastUsedAt),
  revokedAt: iso(t.revokedAt),
});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A user as SCIM carries it, before it is written. */
interface UserState {
  email: string;
  name: string;
  active: boolean;
  externalId: string | null;
}

/**
 * SCIM 2.0 Users and Groups over the same users, groups and memberships the flows match on. A
 * user made inactive (or deleted) loses every console session and API token at once; every
 * change is audited with the SCIM token as the actor. Deactivations, deletions and membership
 * changes are recorded as identity changes in the same transaction: the access requests then
 * take back what the person no longer qualifies for and re-resolve pending approvals.
 */
@Injectable()
export class ScimService {
  constructor(
    private readonly scim: ScimRepository,
    private readonly identities: IdentitiesRepository,
    private readonly tokens: TokensRepository,
    private readonly signIn: SignInRepository,
    private readonly audit: AuditService,
    private readonly changes: IdentityChanges,
  ) {}

  async createToken(actor: Actor, name: string): Promise<ScimToken & { token: string }> {
    const token = generateScimToken();
    const row = await this.scim.insertToken({ name, hash: hashToken(token), createdBy: actor.email ?? actor.id });
    await this.audit.append(auditEntry('scim-token.created', actor, { type: 'scim-token', id: row.id, name: row.name }));
    return { ...toScimTokenView(row), token };
  }

  async listTokens(): Promise<{ items: ScimToken[] }> {
    return { items: (await this.scim.listTokens()).map(toScimTokenView) };
  }

  async revokeToken(actor: Actor, id: string): Promise<ScimToken> {
    const result = await this.scim.revokeToken(id);
    if (!result) throw new AppException(ErrorCode.NotFound, `No SCIM token has the id ${id}.`);
    if (result.revokedNow) await this.audit.append(auditEntry('scim-token.revoked', actor, { type: 'scim-token', id, name: result.token.name }));
    return toScimTokenView(result.token);
  }

  /** One SCIM call; null when the token is unknown or revoked (the gateway answers 401). */
  async handle(call: ScimCall): Promise<ScimAnswer | null> {
    const token = await this.scim.usableToken(call.tokenHash);
    if (!token) return null;
    const actor: Actor = { type: 'system', id: `scim-token:${token.id}`, email: `scim:${token.name}`.slice(0, 320) };
    try {
      const answer = await this.route(call, actor);
      if (call.method !== 'GET') this.changes.announce();
      return answer;
    } catch (err) {
      if (err instanceof ScimError) return { status: err.status, body: err.body() };
      if (err instanceof DuplicateError)
        return { status: 409, body: new ScimError(409, 'A user with this userName, or a group with this displayName, already exists.', 'uniqueness').body() };
      if (err instanceof AppException && err.code === ErrorCode.Conflict) return { status: 409, body: new ScimError(409, err.message).body() };
      throw err;
    }
  }

  private route(call: ScimCall, actor: Actor): Promise<ScimAnswer> {
    const { method, resource, id } = call;
    if (resource === 'Users') {
      if (!id && method === 'GET') return this.listUsers(call);
      if (!id && method === 'POST') return this.createUser(call, actor);
      if (id && method === 'GET') return this.getUser(call, id);
      if (id && method === 'PUT') return this.replaceUser(call, actor, id);
      if (id && method === 'PATCH') return this.patchUser(call, actor, id);
      if (id && method === 'DELETE') return this.deleteUser(actor, id);
    } else {
      if (!id && method === 'GET') return this.listGroups(call);
      if (!id && method === 'POST') return this.createGroup(call, actor);
      if (id && method === 'GET') return this.getGroup(call, id);
      if (id && method === 'PUT') return this.replaceGroup(call, actor, id);
      if (id && method === 'PATCH') return this.patchGroup(call, actor, id);
      if (id && method === 'DELETE') return this.deleteGroup(actor, id);
    }
    throw new ScimError(405, `${method} is not supported here.`);
  }

  // ---------------------------------------------------------------- Users

  private userResource(call: ScimCall, u: UserRow, groups: Array<{ id: string; name: string }> = []) {
    const [givenName, ...rest] = u.name.split(' ');
    return {
      schemas: [SCIM_USER],
      id: u.id,
      ...(u.externalId ? { externalId: u.externalId } : {}),
      userName: u.email,
      name: { formatted: u.name, ...(rest.length ? { givenName, familyName: rest.join(' ') } : {}) },
      displayName: u.name,
      emails: [{ value: u.email, type: 'work', primary: true }],
      active: u.active,
      groups: groups.map((g) => ({ value: g.id, display: g.name, $ref: `${call.baseUrl}/Groups/${g.id}` })),
      meta: { resourceType: 'User', created: iso(u.createdAt), lastModified: iso(u.updatedAt), location: `${call.baseUrl}/Users/${u.id}` },
    };
  }

  private async userAnswer(call: ScimCall, id: string, status = 200): Promise<ScimAnswer> {
    const user = await this.identities.findUser(id);
    if (!user) throw new ScimError(404, `User ${id} not found.`);
    const resource = this.userResource(call, user, await this.scim.groupsNamed(user.groups));
    return { status, body: resource, ...(status === 201 ? { location: resource.meta.location } : {}) };
  }

  /** What a POST or PUT body says about the user; userName must be an email (it is the Latchkey login). */
  private userState(body: unknown, before?: UserRow): UserState {
    const b = (body ?? {}) as Record<string, any>;
    const emails: Array<Record<string, unknown>> = Array.isArray(b.emails) ? b.emails : [];
    const primary = str(emails.find((e) => e?.primary === true || e?.primary === 'True' || e?.primary === 'true')?.value) ?? str(emails[0]?.value);
    const userName = str(b.userName);
    const candidate = userName && Email.safeParse(userName).success ? userName : primary;
    if (!candidate) throw new ScimError(400, 'userName is required.', 'invalidValue');
    const email = Email.safeParse(candidate);
    if (!email.success) throw new ScimError(400, 'userName (or a primary email) must be an email address: it is what people sign in with.', 'invalidValue');
    const given = [str(b.name?.givenName), str(b.name?.familyName)].filter(Boolean).join(' ');
    const name = (str(b.displayName) || str(b.name?.formatted) || given || before?.name || email.data).trim().slice(0, 200);
    return {
      email: email.data,
      name,
      active: b.active === undefined ? (before?.active ?? true) : scimBoolean(b.active, 'active'),
      externalId: b.externalId === undefined ? (before?.externalId ?? null) : (str(b.externalId) ?? null),
    };
  }

  private async listUsers(call: ScimCall): Promise<ScimAnswer> {
    const filter = parseEqFilter(call.query.filter, Object.keys(USER_FILTER_COLUMNS) as Array<keyof typeof USER_FILTER_COLUMNS>);
    const page = pageOf(call.query, MAX_PAGE);
    const { ids, total } = await this.scim.findUserIds(filter, page.offset, page.count);
    const resources = [];
    for (const id of ids) {
      const user = await this.identities.findUser(id);
      if (user) resources.push(this.userResource(call, user, await this.scim.groupsNamed(user.groups)));
    }
    return {
      status: 200,
      body: { schemas: [SCIM_LIST], totalResults: total, startIndex: page.startIndex, itemsPerPage: resources.length, Resources: resources },
    };
  }

  private getUser(call: ScimCall, id: string): Promise<ScimAnswer> {
    return this.userAnswer(call, id);
  }

  private async createUser(call: ScimCall, actor: Actor): Promise<ScimAnswer> {
    const state = this.userState(call.body);
    const id = await this.identities.transaction(async (tx) => {
      if (await this.identities.findUserByEmail(state.email, tx)) throw new ScimError(409, `A user with userName ${state.email} already exists.`, 'uniqueness');
      const id = await this.identities.insertUser(tx, { email: state.email, name: state.name, attributes: {}, role: 'user' });
      await this.scim.setUserScimFields(tx, id, { active: state.active, externalId: state.externalId });
      const user = (await this.identities.findUser(id, tx))!;
      await this.audit.append(
        auditEntry('user.created', actor, { type: 'user', id, name: user.email }, diffFields(null, toUserView(user), USER_AUDIT_FIELDS), {
          via: 'scim',
          active: state.active,
        }),
        tx,
      );
      return id;
    });
    return this.userAnswer(call, id, 201);
  }

  private async replaceUser(call: ScimCall, actor: Actor, id: string): Promise<ScimAnswer> {
    await this.writeUser(actor, id, (before) => this.userState(call.body, before));
    return this.userAnswer(call, id);
  }

  private async patchUser(call: ScimCall, actor: Actor, id: string): Promise<ScimAnswer> {
    const ops = patchOperations(call.body);
    await this.writeUser(actor, id, (before) => {
      const state: UserState = { email: before.email, name: before.name, active: before.active, externalId: before.externalId };
      const apply = (path: string, value: unknown, op: 'add' | 'replace' | 'remove') => {
        const key = path.replace(/^urn:ietf:params:scim:schemas:core:2\.0:User:/i, '').toLowerCase();
        if (key === 'active') state.active = op === 'remove' ? state.active : scimBoolean(value, 'active');
        else if (key === 'username') state.email = this.userState({ userName: value }).email;
        else if (key === 'displayname' || key === 'name.formatted') state.name = op === 'remove' ? state.name : String(value ?? '').slice(0, 200) || state.name;
        else if (key === 'name.givenname' || key === 'name.familyname') {
          const [given, ...family] = state.name.split(' ');
          if (op !== 'remove') state.name = (key === 'name.givenname' ? [String(value), ...family] : [given, String(value)]).join(' ').trim().slice(0, 200);
        } else if (key === 'externalid') state.externalId = op === 'remove' ? null : (str(value) ?? null);
        else if (/^emails(\[.*\])?(\.value)?$/.test(key)) {
          const v = Array.isArray(value)
            ? (value[0] as { value?: unknown })?.value
            : typeof value === 'object' && value
              ? (value as { value?: unknown }).value
              : value;
          if (op !== 'remove') state.email = this.userState({ userName: v }).email;
        } else if (key === 'name') {
          const n = (value ?? {}) as Record<string, unknown>;
          const full = str(n.formatted) || [str(n.givenName), str(n.familyName)].filter(Boolean).join(' ');
          if (full) state.name = full.slice(0, 200);
        }
        // Attributes Latchkey does not keep (title, phoneNumbers, enterprise extension...) are accepted and ignored.
      };
      for (const op of ops) {
        if (op.path) apply(op.path, op.value, op.op);
        else if (op.value && typeof op.value === 'object') for (const [k, v] of Object.entries(op.value)) apply(k, v, op.op);
        else throw new ScimError(400, 'An operation without a path needs an object value.', 'invalidValue');
      }
      return state;
    });
    return this.userAnswer(call, id);
  }

  /** Writes the user's new state; deactivation ends every console session and revokes every API token. */
  private async writeUser(actor: Actor, id: string, next: (before: UserRow) => UserState): Promise<void> {
    await this.identities.transaction(async (tx) => {
      const before = await this.identities.lockUser(tx, id);
      if (!before) throw new ScimError(404, `User ${id} not found.`);
      const state = next(before);
      const other = await this.identities.findUserByEmail(state.email, tx);
      if (other && other.id !== id) throw new ScimError(409, `A user with userName ${state.email} already exists.`, 'uniqueness');
      await this.identities.updateUser(tx, id, { email: state.email, name: state.name, attributes: before.attributes, role: before.role });
      await this.scim.setUserScimFields(tx, id, { active: state.active, externalId: state.externalId });
      const after = (await this.identities.findUser(id, tx))!;
      const diff = diffFields({ ...toUserView(before), active: before.active }, { ...toUserView(after), active: after.active }, [
        ...USER_AUDIT_FIELDS,
        'active',
      ]);
      let ended: Record<string, number> = {};
      if (before.active && !state.active) {
        ended = await this.cutOff(tx, actor, id, 'deactivated by SCIM');
        await this.changes.record(tx, [id], 'deactivated by the identity provider (SCIM)', actor);
      }
      if (Object.keys(diff).length) {
        const action = before.active && !state.active ? 'user.deactivated' : !before.active && state.active ? 'user.reactivated' : 'user.updated';
        await this.audit.append(auditEntry(action, actor, { type: 'user', id, name: after.email }, diff, { via: 'scim', ...ended }), tx);
      }
    });
  }

  private cutOff(tx: Tx, actor: Actor, userId: string, reason: string) {
    return cutOffUser({ tokens: this.tokens, signIn: this.signIn, audit: this.audit }, tx, actor, userId, reason);
  }

  private async deleteUser(actor: Actor, id: string): Promise<ScimAnswer> {
    await this.identities.transaction(async (tx) => {
      const admins = await this.identities.lockAdmins(tx);
      const user = await this.identities.lockUser(tx, id);
      if (!user) throw new ScimError(404, `User ${id} not found.`);
      if (user.role === 'admin' && admins.length <= 1) throw new ScimError(409, 'Cannot delete the last admin: make another user admin first.', 'mutability');
      const ended = await this.cutOff(tx, actor, id, 'user deleted by SCIM');
      await this.changes.record(tx, [id], 'deleted by the identity provider (SCIM)', actor);
      await this.identities.deleteUser(tx, id);
      await this.audit.append(
        auditEntry('user.deleted', actor, { type: 'user', id, name: user.email }, diffFields(toUserView(user), null, USER_AUDIT_FIELDS), {
          via: 'scim',
          ...ended,
        }),
        tx,
      );
    });
    return { status: 204 };
  }

  // ---------------------------------------------------------------- Groups

  private groupResource(call: ScimCall, g: ScimGroupRow) {
    const excluded = (call.query.excludedAttributes ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim());
    return {
      schemas: [SCIM_GROUP],
      id: g.id,
      ...(g.externalId ? { externalId: g.externalId } : {}),
      displayName: g.name,
      ...(excluded.includes('members') ? {} : { members: g.members.map((u) => ({ value: u.id, display: u.email, $ref: `${call.baseUrl}/Users/${u.id}` })) }),
      meta: { resourceType: 'Group', created: iso(g.createdAt), location: `${call.baseUrl}/Groups/${g.id}` },
    };
  }

  private async groupAnswer(call: ScimCall, id: string, status = 200): Promise<ScimAnswer> {
    const group = await this.scim.findGroup(id);
    if (!group) throw new ScimError(404, `Group ${id} not found.`);
    const resource = this.groupResource(call, group);
    return { status, body: resource, ...(status === 201 ? { location: resource.meta.location } : {}) };
  }

  private groupName(value: unknown): string {
    const parsed = GroupName.safeParse(value);
    if (!parsed.success) throw new ScimError(400, `displayName ${parsed.error.issues[0]?.message ?? 'is invalid'}.`, 'invalidValue');
    return parsed.data;
  }

  private async listGroups(call: ScimCall): Promise<ScimAnswer> {
    const filter = parseEqFilter(call.query.filter, Object.keys(GROUP_FILTER_COLUMNS) as Array<keyof typeof GROUP_FILTER_COLUMNS>);
    const page = pageOf(call.query, MAX_PAGE);
    const { groups, total } = await this.scim.findGroups(filter, page.offset, page.count);
    return {
      status: 200,
      body: {
        schemas: [SCIM_LIST],
        totalResults: total,
        startIndex: page.startIndex,
        itemsPerPage: groups.length,
        Resources: groups.map((g) => this.groupResource(call, g)),
      },
    };
  }

  private getGroup(call: ScimCall, id: string): Promise<ScimAnswer> {
    return this.groupAnswer(call, id);
  }

  private async createGroup(call: ScimCall, actor: Actor): Promise<ScimAnswer> {
    const b = (call.body ?? {}) as Record<string, unknown>;
    const name = this.groupName(b.displayName);
    const members = memberIds(b.members);
    const id = await this.identities.transaction(async (tx) => {
      const group = await this.identities.insertGroup(tx, name, null).catch((err) => {
        if (err instanceof DuplicateError) throw new ScimError(409, `A group named ${name} already exists.`, 'uniqueness');
        throw err;
      });
      await this.scim.setGroupFields(tx, group.id, { name, externalId: str(b.externalId) ?? null });
      const added = await this.scim.addMembers(tx, group.id, await this.scim.existingUserIds(tx, members));
      await this.changes.record(tx, added, `added to group ${name} by the identity provider (SCIM)`, actor);
      await this.audit.append(
        auditEntry('group.created', actor, { type: 'group', id: group.id, name }, diffFields(null, { name }, ['name']), { via: 'scim', membersAdded: added }),
        tx,
      );
      return group.id;
    });
    return this.groupAnswer(call, id, 201);
  }

  private async replaceGroup(call: ScimCall, actor: Actor, id: string): Promise<ScimAnswer> {
    const b = (call.body ?? {}) as Record<string, unknown>;
    await this.writeGroup(actor, id, (g) => ({
      name: b.displayName === undefined ? g.name : this.groupName(b.displayName),
      externalId: b.externalId === undefined ? g.externalId : (str(b.externalId) ?? null),
      members: { set: memberIds(b.members) },
    }));
    return this.groupAnswer(call, id);
  }

  private async patchGroup(call: ScimCall, actor: Actor, id: string): Promise<ScimAnswer> {
    const ops = patchOperations(call.body);
    await this.writeGroup(actor, id, (g) => {
      let name = g.name;
      let externalId = g.externalId;
      const members = new Set(g.members.map((u) => u.id));
      const setAttribute = (path: string, value: unknown, op: string) => {
        const key = path.toLowerCase();
        if (key === 'displayname') name = this.groupName(value);
        else if (key === 'externalid') externalId = op === 'remove' ? null : (str(value) ?? null);
        else if (key.startsWith('members')) {
          const one = memberPathId(path);
          if (op === 'remove') {
            // Entra sends `remove members` with the ids in the value; Okta sends members[value eq "id"].
            const ids = one ? [one] : value === undefined ? [...members] : memberIds(value);
            for (const m of ids) members.delete(m);
          } else {
            if (op === 'replace') members.clear();
            for (const m of one ? [one] : memberIds(value)) members.add(m);
          }
        } else throw new ScimError(400, `Unsupported path ${path} for a group.`, 'invalidPath');
      };
      for (const op of ops) {
        if (op.path) setAttribute(op.path, op.value, op.op);
        else if (op.value && typeof op.value === 'object') for (const [k, v] of Object.entries(op.value)) setAttribute(k, v, op.op);
        else throw new ScimError(400, 'An operation without a path needs an object value.', 'invalidValue');
      }
      return { name, externalId, members: { set: [...members] } };
    });
    return { status: 204 };
  }

  /** Writes the group's name, externalId and members; membership changes are audited per group (added, removed). */
  private async writeGroup(
    actor: Actor,
    id: string,
    next: (g: ScimGroupRow) => { name: string; externalId: string | null; members: { set: string[] } },
  ): Promise<void> {
    await this.identities.transaction(async (tx) => {
      if (!(await this.scim.lockGroup(tx, id))) throw new ScimError(404, `Group ${id} not found.`);
      const before = (await this.scim.findGroup(id, tx))!;
      const state = next(before);
      if (state.name.toLowerCase() !== before.name.toLowerCase()) {
        const { groups } = await this.scim.findGroups({ attribute: 'displayName', value: state.name }, 0, 1);
        if (groups[0] && groups[0].id !== id) throw new ScimError(409, `A group named ${state.name} already exists.`, 'uniqueness');
      }
      await this.scim.setGroupFields(tx, id, { name: state.name, externalId: state.externalId });
      const wanted = new Set(await this.scim.existingUserIds(tx, state.members.set));
      const current = new Set(before.members.map((u) => u.id));
      const removed = await this.scim.removeMembers(
        tx,
        id,
        [...current].filter((u) => !wanted.has(u)),
      );
      const added = await this.scim.addMembers(
        tx,
        id,
        [...wanted].filter((u) => !current.has(u)),
      );
      await this.changes.record(tx, removed, `removed from group ${state.name} by the identity provider (SCIM)`, actor);
      await this.changes.record(tx, added, `added to group ${state.name} by the identity provider (SCIM)`, actor);
      const diff = diffFields({ name: before.name, externalId: before.externalId }, { name: state.name, externalId: state.externalId }, ['name', 'externalId']);
      if (Object.keys(diff).length || added.length || removed.length) {
        await this.audit.append(
          auditEntry('group.updated', actor, { type: 'group', id, name: state.name }, diff, { via: 'scim', membersAdded: added, membersRemoved: removed }),
          tx,
        );
      }
    });
  }

  private async deleteGroup(actor: Actor, id: string): Promise<ScimAnswer> {
    await this.identities.transaction(async (tx) => {
      if (!(await this.scim.lockGroup(tx, id))) throw new ScimError(404, `Group ${id} not found.`);
      const group = (await this.scim.findGroup(id, tx))!;
      await this.scim.deleteGroup(tx, id);
      await this.changes.record(
        tx,
        group.members.map((u) => u.id),
        `group ${group.name} deleted by the identity provider (SCIM)`,
        actor,
      );
      await this.audit.append(
        auditEntry('group.deleted', actor, { type: 'group', id, name: group.name }, diffFields({ name: group.name }, null, ['name']), {
          via: 'scim',
          membersRemoved: group.members.map((u) => u.id),
        }),
        tx,
      );
    });
    return { status: 204 };
  }
}
