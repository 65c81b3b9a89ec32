import { quoteIdent } from './quote';

/** A fix lists at most this many statements, so that a report stays readable on any database. */
export const MAX_FIX_STATEMENTS = 20;

/** Privileges the connector user lacks the grant option for, in one schema. */
export interface SchemaGap {
  schema: string;
  /** USAGE WITH GRANT OPTION on the schema itself. */
  lacksUsage: boolean;
  /** Tables, views, materialized views, foreign and partitioned tables without SELECT WITH GRANT OPTION. */
  tables: number;
  /** Sequences without USAGE WITH GRANT OPTION. */
  sequences: number;
}

export function createRolesFix(user: string): string {
  return `ALTER ROLE ${quoteIdent(user)} CREATEROLE;`;
}

export function terminateBackendsFix(user: string): string {
  return `GRANT ${quoteIdent('pg_signal_backend')} TO ${quoteIdent(user)};`;
}

/** `roles` may be the first of `total` roles that lack ADMIN OPTION. */
export function adminOptionFix(user: string, roles: string[], total = roles.length): string {
  const groups = roles.map((role) => [`GRANT ${quoteIdent(role)} TO ${quoteIdent(user)} WITH ADMIN OPTION;`]);
  return capped(groups, 'roles', MAX_FIX_STATEMENTS, total).join('\n');
}

/**
 * SQL that lets `user` grant on `database`. Schema-level statements act on the database the
 * session is connected to, so the whole fix is meant to be run there.
 */
export function databaseGrantFix(user: string, database: string, canGrantConnect: boolean, gaps: SchemaGap[]): string {
  const grantee = quoteIdent(user);
  const lines = canGrantConnect ? [] : [`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${grantee} WITH GRANT OPTION;`];
  const groups = gaps
    .map((gap) => {
      const schema = quoteIdent(gap.schema);
      return [
        ...(gap.lacksUsage ? [`GRANT ALL ON SCHEMA ${schema} TO ${grantee} WITH GRANT OPTION;`] : []),
        ...(gap.tables > 0 ? [`GRANT ALL ON ALL TABLES IN SCHEMA ${schema} TO ${grantee} WITH GRANT OPTION;`] : []),
        ...(gap.sequences > 0 ? [`GRANT ALL ON ALL SEQUENCES IN SCHEMA ${schema} TO ${grantee} WITH GRANT OPTION;`] : []),
      ];
    })
    .filter((group) => group.length > 0);
  if (groups.length > 0) lines.push('-- Run while connected to this database:', ...capped(groups, 'schemas', MAX_FIX_STATEMENTS - lines.length));
  return lines.join('\n');
}

export function databaseGrantDetail(canGrantConnect: boolean, gaps: SchemaGap[]): string {
  const missing: string[] = [];
  if (!canGrantConnect) missing.push('cannot grant CONNECT (it needs to own the database, be a superuser, or hold CONNECT WITH GRANT OPTION)');
  const schemas = gaps.filter((g) => g.lacksUsage).length;
  const tables = gaps.reduce((n, g) => n + g.tables, 0);
  const sequences = gaps.reduce((n, g) => n + g.sequences, 0);
  const objects = [
    ...(schemas ? [plural(schemas, 'schema', 'schemas') + ' (USAGE)'] : []),
    ...(tables ? [plural(tables, 'table', 'tables') + ' (SELECT)'] : []),
    ...(sequences ? [plural(sequences, 'sequence', 'sequences') + ' (USAGE)'] : []),
  ];
  if (objects.length) missing.push(`lacks the grant option on ${objects.join(', ')}`);
  return missing.length ? `Cannot grant everything here: ${missing.join('; ')}.` : 'Can grant CONNECT, and privileges on every schema, table and sequence.';
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Whole groups of statements up to `limit`, then a note of how many of `total` groups were left out. */
function capped(groups: string[][], noun: string, limit = MAX_FIX_STATEMENTS, total = groups.length): string[] {
  const out: string[] = [];
  let taken = 0;
  for (const group of groups) {
    if (out.length + group.length > limit) break;
    out.push(...group);
    taken += 1;
  }
  if (taken < total) out.push(`-- and ${total - taken} more ${noun}`);
  return out;
}
