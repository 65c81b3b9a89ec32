import type { ResourceKind } from '@latchkey/contracts';
import { isControlDatabaseSql } from '../control-database';
import { quoteLiteral } from '../quote';
import { PROFILE_ROLE_PREFIX } from '../grants/role-names';
import { blockerCtesSql, type Blocker } from '../grants/unrequestable-roles';

/**
 * The catalog queries of discovery. They read pg_catalog directly: information_schema is several
 * times slower and hides objects the connector user holds no privilege on. Every query is paged by
 * oid (keyset: `oid > $1 ORDER BY oid LIMIT $2`), which the catalogs' oid indexes serve, so a
 * page costs the same at the start and at the end of 50,000 tables.
 */

/** What a row of any discovery query holds. */
export interface CatalogRow {
  oid: number;
  schema: string | null;
  name: string;
  owner: string | null;
  comment: string | null;
  managed: boolean;
}

/** Schemas that hold PostgreSQL's own objects, TOAST data or other sessions' temporary objects. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`;

/** Databases a session may be opened on; `can_connect` says whether this user may. Latchkey's own control database is never one. */
export const DATABASES_SQL = `
  SELECT d.oid, NULL AS schema, d.datname AS name, pg_get_userbyid(d.datdba) AS owner, s.description AS comment, false AS managed,
         has_database_privilege(d.oid, 'CONNECT') AS can_connect
    FROM pg_database d
    LEFT JOIN pg_shdescription s ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
   WHERE d.datallowconn AND NOT d.datistemplate AND NOT ${isControlDatabaseSql('d.oid')} AND d.oid > $1
   ORDER BY d.oid
   LIMIT $2`;

/** A role row also says what, if anything, makes membership in it unrequestable. */
export type RoleRow = CatalogRow & Partial<Blocker>;

/**
 * Login and group roles, PostgreSQL's own `pg_*` roles left out. Latchkey's own roles are marked:
 * the marker roles themselves ($3 latchkey_managed, $4 latchkey_orphan_owner), profile roles
 * (`lk_p_`), and `lk_` roles that are members of the first. Each page's roles come with their
 * blocker (see blockerCtesSql), read from the closure of their memberships.
 */
export const ROLES_SQL = `
  WITH RECURSIVE page AS (
    SELECT r.oid, r.rolname FROM pg_roles r
     WHERE NOT starts_with(r.rolname, 'pg_') AND r.oid > $1
     ORDER BY r.oid
     LIMIT $2
  ),
  ${blockerCtesSql('SELECT oid FROM page')}
  SELECT r.oid, NULL AS schema, r.rolname AS name, NULL AS owner, s.description AS comment,
         (r.rolname IN ($3, $4)
          OR starts_with(r.rolname, ${quoteLiteral(PROFILE_ROLE_PREFIX)})
          OR (starts_with(r.rolname, 'lk_') AND EXISTS (
                SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                 WHERE m.member = r.oid AND g.rolname = $3))) AS managed,
         blocker.blocked_by, blocker.blocked_as, blocker.blocked_depth
    FROM page r
    LEFT JOIN pg_shdescription s ON s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass
    LEFT JOIN blocker ON blocker.start = r.oid
   ORDER BY r.oid`;

export const SCHEMAS_SQL = `
  SELECT n.oid, NULL AS schema, n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, d.description AS comment, false AS managed
    FROM pg_namespace n
    LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
   WHERE ${USER_SCHEMA} AND n.oid > $1
   ORDER BY n.oid
   LIMIT $2`;

/**
 * Relations of one relkind ($3). Partitions are left out: they are reached, and granted, through
 * their partitioned table.
 */
export const RELATIONS_SQL = `
  SELECT c.oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner, d.description AS comment, false AS managed
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
   WHERE c.relkind = $3 AND NOT c.relispartition AND ${USER_SCHEMA} AND c.oid > $1
   ORDER BY c.oid
   LIMIT $2`;

/** Schema-level kinds and their pg_class relkind. */
export const RELKIND: Readonly<Partial<Record<ResourceKind, string>>> = {
  table: 'r',
  partitioned_table: 'p',
  view: 'v',
  materialized_view: 'm',
  foreign_table: 'f',
  sequence: 'S',
};
