import { createHash } from 'node:crypto';
import type { Permission, ResourceType } from '@latchkey/contracts';
import { MAX_IDENTIFIER_BYTES } from '../quote';
import { GrantError } from './grant-error';
import type { GrantTargetItem, PersonIdentity } from './grant-types';

/** Marks Latchkey's personal login roles: every one is a member, so sweeps and drift reports find them. */
export const MANAGED_MARKER_ROLE = 'latchkey_managed';
/** Receives what dropped personal roles owned, so that they can be dropped. */
export const ORPHAN_OWNER_ROLE = 'latchkey_orphan_owner';
export const PROFILE_ROLE_PREFIX = 'lk_p_';

const PERSONAL_ROLE_PREFIX = 'lk_';
// 48 bits: names collide only past millions of people or resources on one instance.
const HASH_CHARS = 12;
const TYPE_ABBREVIATIONS: Record<Exclude<ResourceType, 'postgresql-role'>, string> = {
  'postgresql-database': 'db',
  'postgresql-schema': 'sc',
  'postgresql-table': 'tb',
};
const PERMISSION_ABBREVIATIONS: Record<Exclude<Permission, 'MEMBER'>, string> = { READ_ONLY: 'ro', READ_WRITE: 'rw', ADMIN: 'ad' };

/**
 * The person's login role on every instance: readable in the server's own logs (the email's local
 * part) and unique (a hash of the identity id), e.g. `lk_alice_smith_3f9a2b1c4d5e`.
 */
export function personalRoleName(identity: PersonIdentity): string {
  const at = identity.email.lastIndexOf('@');
  const local = at >= 0 ? identity.email.slice(0, at) : identity.email;
  const room = MAX_IDENTIFIER_BYTES - PERSONAL_ROLE_PREFIX.length - 1 - HASH_CHARS;
  return `${PERSONAL_ROLE_PREFIX}${readableFragment(local, room) || 'user'}_${shortHash(identity.id)}`;
}

/**
 * The NOLOGIN group role that holds one (resource, permission)'s privileges, e.g.
 * `lk_p_tb_ro_orders_5d41402abc4b`; the hash covers the exact path and permission.
 */
export function profileRoleName(item: GrantTargetItem): string {
  const { resourceType: type, permission } = assertValidItem(item);
  if (type === 'postgresql-role' || permission === 'MEMBER') {
    throw new GrantError('invalid_item', 'A postgresql-role item grants membership in the role itself and has no profile role');
  }
  const prefix = `${PROFILE_ROLE_PREFIX}${TYPE_ABBREVIATIONS[type]}_${PERMISSION_ABBREVIATIONS[permission]}_`;
  const fragment = readableFragment(item.table ?? item.schema ?? item.database, MAX_IDENTIFIER_BYTES - prefix.length - 1 - HASH_CHARS);
  return `${prefix}${fragment ? `${fragment}_` : ''}${shortHash(JSON.stringify(profilePath(item)))}`;
}

/** The profile role's COMMENT: the exact path as JSON, which drift reports read back. */
export function profileComment(item: GrantTargetItem): string {
  return JSON.stringify({ latchkey: 'profile', ...profilePath(item) });
}

/** Throws GrantError('invalid_item') unless the item names the parts its type needs and a permission that type has. */
export function assertValidItem(item: GrantTargetItem): GrantTargetItem {
  const needs = {
    schema: item.resourceType === 'postgresql-schema' || item.resourceType === 'postgresql-table',
    table: item.resourceType === 'postgresql-table',
    role: item.resourceType === 'postgresql-role',
  };
  for (const [part, needed] of Object.entries(needs) as Array<[keyof typeof needs, boolean]>) {
    if (needed && !item[part]) throw new GrantError('invalid_item', `A ${item.resourceType} item needs a ${part}`);
    if (!needed && item[part] !== undefined) throw new GrantError('invalid_item', `A ${item.resourceType} item has no ${part}`);
  }
  const valid = item.resourceType === 'postgresql-role' ? item.permission === 'MEMBER' : item.permission !== 'MEMBER';
  if (!valid) throw new GrantError('invalid_item', `${item.permission} is not a permission of ${item.resourceType}`);
  return item;
}

function profilePath(item: GrantTargetItem) {
  return { resourceType: item.resourceType, database: item.database, schema: item.schema ?? null, table: item.table ?? null, permission: item.permission };
}

/** Lowercase ASCII letters, digits and single underscores; accents dropped, anything else becomes `_`. */
function readableFragment(text: string, maxChars: number): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+/, '')
    .slice(0, maxChars)
    .replace(/_+$/, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_CHARS);
}
