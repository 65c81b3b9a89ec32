import type { Actor, AuditDiff, AuditEntryInput, Group, Token, User } from '@latchkey/contracts';
import { AppException, ErrorCode } from '@latchkey/contracts';
import { decodePageToken, encodePageToken } from '@latchkey/persistence';
import type { PagePosition } from '@latchkey/persistence';
import type { GroupRow, UserRow } from './identities.repository';
import type { TokenRow } from './tokens.repository';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const toUserView = (u: UserRow): User => ({
  id: u.id,
  email: u.email,
  name: u.name,
  groups: u.groups,
  attributes: u.attributes,
  role: u.role,
  active: u.active,
  managedBy: u.managedBy,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
});

export const toGroupView = (g: GroupRow): Group => ({
  id: g.id,
  name: g.name,
  description: g.description,
  members: g.members,
  managedBy: g.managedBy,
  createdAt: g.createdAt.toISOString(),
});

export const toTokenView = (t: TokenRow): Token => ({
  id: t.id,
  userId: t.userId,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
  expiresAt: iso(t.expiresAt),
  revokedAt: iso(t.revokedAt),
  lastUsedAt: iso(t.lastUsedAt),
  impersonatedBy: t.impersonatedBy,
});

/** A page of rows fetched with one extra row: the extra one says another page follows. */
export function pageOf<R extends { id: string; createdAt: Date }, V>(rows: R[], pageSize: number, view: (r: R) => V): { items: V[]; nextPageToken?: string } {
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const items = page.map(view);
  return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt.toISOString(), id: last.id }) } : { items };
}

export function pagePosition(pageToken: string | undefined): PagePosition | undefined {
  if (pageToken === undefined) return undefined;
  const position = decodePageToken(pageToken);
  if (!position) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token from a previous page' }]);
  return position;
}

/** The fields that differ, with their values before and after; unchanged fields are left out. */

export const USER_AUDIT_FIELDS = ['email', 'name', 'groups', 'attributes', 'role', 'managedBy'] as const;
export const GROUP_AUDIT_FIELDS = ['name', 'description', 'managedBy'] as const;
export const TOKEN_AUDIT_FIELDS = ['userId', 'name', 'expiresAt'] as const;

export const auditEntry = (
  action: string,
  actor: Actor,
  target: { type: string; id: string; name?: string },
  diff?: AuditDiff,
  details?: Record<string, unknown>,
): AuditEntryInput => ({
  action,
  actor,
  targetType: target.type,
  targetId: target.id,
  ...(target.name !== undefined ? { targetName: target.name } : {}),
  ...(diff ? { diff } : {}),
  ...(details ? { details } : {}),
});

export const notFound = (what: 'user' | 'group' | 'token', id: string) => new AppException(ErrorCode.NotFound, `No ${what} with id ${id}.`);
export const forbidden = (message: string) => new AppException(ErrorCode.Forbidden, message);
