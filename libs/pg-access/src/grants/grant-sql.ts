import { quoteIdent, quoteLiteral } from '../quote';
import type { GrantTargetItem } from './grant-types';
import { KNOWN_PRIVILEGES } from './privileges';
import { profileRoleName } from './role-names';

/** What a profile role still lacks, read from the catalog's ACLs (never from PUBLIC's privileges). */
export interface ProfileGaps {
  database: { name: string; missing: string[] } | null;
  schemas: Array<{ schema: string; missing: string[] }>;
  relations: Array<{ schema: string; name: string; sequence: boolean; missing: string[] }>;
  /** Routines lacking EXECUTE; argument types as (schema, name) pairs. */
  routines: Array<{ schema: string; name: string; argTypes: Array<[string, string]> }>;
  defaults: Array<{ schema: string; owner: string; objects: DefaultObjects; missing: string[] }>;
}

export type DefaultObjects = 'TABLES' | 'SEQUENCES' | 'FUNCTIONS';

// GRANT takes a list of objects; batches keep one statement well below any size limit.
const OBJECTS_PER_STATEMENT = 200;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The role a grant item makes the person a member of: its profile role, or the existing role of a MEMBER item. */
export function grantedRoleName(item: GrantTargetItem): string {
  return item.resourceType === 'postgresql-role' ? (item.role as string) : profileRoleName(item);
}

/** Roles whose membership `items` gave and no kept item still needs, sorted. */
export function membershipsToRevoke(items: GrantTargetItem[], keepItems: GrantTargetItem[]): string[] {
  const kept = new Set(keepItems.map(grantedRoleName));
  return [...new Set(items.map(grantedRoleName))].filter((name) => !kept.has(name)).sort();
}

export function createNologinRoleStatements(role: string, comment: string): string[] {
  return [`CREATE ROLE ${quoteIdent(role)} NOLOGIN`, `COMMENT ON ROLE ${quoteIdent(role)} IS ${quoteLiteral(comment)}`];
}

/** GRANT and ALTER DEFAULT PRIVILEGES statements that close the gaps, objects with the same missing privileges batched. */
export function profileGrantStatements(profile: string, gaps: ProfileGaps): string[] {
  const to = `TO ${quoteIdent(profile)}`;
  const statements: string[] = [];
  if (gaps.database?.missing.length) statements.push(`GRANT ${privileges(gaps.database.missing)} ON DATABASE ${quoteIdent(gaps.database.name)} ${to}`);
  for (const [missing, schemas] of groupBy(gaps.schemas, (s) => s.missing)) {
    for (const batch of chunks(schemas)) statements.push(`GRANT ${privileges(missing)} ON SCHEMA ${batch.map((s) => quoteIdent(s.schema)).join(', ')} ${to}`);
  }
  for (const sequence of [false, true]) {
    const relations = gaps.relations.filter((r) => r.sequence === sequence);
    for (const [missing, group] of groupBy(relations, (r) => r.missing)) {
      for (const batch of chunks(group)) {
        const names = batch.map((r) => `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`).join(', ');
        statements.push(`GRANT ${privileges(missing)} ON ${sequence ? 'SEQUENCE' : 'TABLE'} ${names} ${to}`);
      }
    }
  }
  for (const batch of chunks(gaps.routines)) {
    const signatures = batch.map((r) => {
      const args = r.argTypes.map(([schema, type]) => `${quoteIdent(schema)}.${quoteIdent(type)}`).join(', ');
      return `${quoteIdent(r.schema)}.${quoteIdent(r.name)}(${args})`;
    });
    statements.push(`GRANT EXECUTE ON ROUTINE ${signatures.join(', ')} ${to}`);
  }
  for (const d of gaps.defaults) {
    statements.push(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(d.owner)} IN SCHEMA ${quoteIdent(d.schema)} GRANT ${privileges(d.missing)} ON ${d.objects} ${to}`,
    );
  }
  return statements;
}

export interface PersonalRoleChange {
  role: string;
  exists: boolean;
  verifier: string;
  validUntil: Date;
  connectionLimit: number;
  comment: string;
  /** Roles the person is not yet a member of. */
  newMemberships: string[];
}

/**
 * Creates or updates the personal login role. Only what a CREATEROLE connector may set on every
 * version: PostgreSQL 15 and older refuse a non-superuser who merely names NOREPLICATION or
 * NOBYPASSRLS in ALTER ROLE, and CREATE ROLE defaults to them anyway.
 */
export function personalRoleStatements(change: PersonalRoleChange): string[] {
  const role = quoteIdent(change.role);
  const login = `LOGIN PASSWORD ${quoteLiteral(change.verifier)} VALID UNTIL ${validUntilLiteral(change.validUntil)} CONNECTION LIMIT ${connectionLimit(change.connectionLimit)}`;
  return [
    change.exists ? `ALTER ROLE ${role} ${login}` : `CREATE ROLE ${role} ${login}`,
    `COMMENT ON ROLE ${role} IS ${quoteLiteral(change.comment)}`,
    ...change.newMemberships.map((m) => `GRANT ${quoteIdent(m)} TO ${role}`),
  ];
}

/** A membership as pg_auth_members holds it: one row per grantor from PostgreSQL 16 on. */
export interface Membership {
  role: string;
  grantors: string[];
}

// PostgreSQL 16 keeps one membership per grantor; REVOKE without GRANTED BY removes only the current user's.
const GRANTORS_FROM_MAJOR = 16;

export function revokeMembershipStatements(role: string, memberships: Membership[], majorVersion: number): string[] {
  return memberships.flatMap((m) => {
    const revoke = `REVOKE ${quoteIdent(m.role)} FROM ${quoteIdent(role)}`;
    return majorVersion >= GRANTORS_FROM_MAJOR && m.grantors.length > 0 ? m.grantors.map((g) => `${revoke} GRANTED BY ${quoteIdent(g)}`) : [revoke];
  });
}

/** Lets the connector act as `role` (REASSIGN OWNED and DROP OWNED need its privileges): PostgreSQL 16 gives a role's creator ADMIN without INHERIT. */
export function selfGrantStatement(role: string, connector: string, majorVersion: number): string {
  const grant = `GRANT ${quoteIdent(role)} TO ${quoteIdent(connector)}`;
  return majorVersion >= GRANTORS_FROM_MAJOR ? `${grant} WITH INHERIT TRUE` : grant;
}

export function validUntilLiteral(validUntil: Date): string {
  if (Number.isNaN(validUntil.getTime())) throw new Error('validUntil must be a valid date');
  const iso = validUntil.toISOString();
  if (!ISO_UTC.test(iso)) throw new Error(`validUntil ${iso} is outside the years PostgreSQL reads back`);
  return quoteLiteral(iso);
}

function connectionLimit(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < -1 || limit > 2 ** 31 - 1) throw new Error('connectionLimit must be an integer of -1 (no limit) or more');
  return String(limit);
}

function privileges(list: string[]): string {
  for (const p of list) if (!KNOWN_PRIVILEGES.has(p)) throw new Error(`Unknown privilege ${JSON.stringify(p)}`);
  return list.join(', ');
}

function groupBy<T>(items: T[], key: (item: T) => string[]): Array<[string[], T[]]> {
  const groups = new Map<string, [string[], T[]]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k.join(','));
    if (group) group[1].push(item);
    else groups.set(k.join(','), [k, [item]]);
  }
  return [...groups.values()];
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += OBJECTS_PER_STATEMENT) out.push(items.slice(i, i + OBJECTS_PER_STATEMENT));
  return out;
}
