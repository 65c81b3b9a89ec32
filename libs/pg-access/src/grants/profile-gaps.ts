import type { Client } from 'pg';
import type { ServerInfo } from '../connection';
import { quoteIdent } from '../quote';
import { GrantError } from './grant-error';
import type { DefaultObjects, ProfileGaps } from './grant-sql';
import type { GrantTargetItem, UncoveredOwner, UngrantedObject } from './grant-types';
import type { PrivilegePlan } from './privileges';

export interface ProfileGapReport {
  gaps: ProfileGaps;
  uncoveredOwners: UncoveredOwner[];
  ungrantedObjects: UngrantedObject[];
}

interface Scope {
  schemaOids: number[];
  /** null: every relation of the schemas. */
  relationOids: number[] | null;
}

// PostgreSQL 16 made ALTER DEFAULT PRIVILEGES FOR ROLE need SET on the role, where membership sufficed.
const SET_OPTION_FROM_MAJOR = 16;
const DEFAULT_OBJECT_TYPES: Array<{ objtype: string; objects: DefaultObjects; privileges: (plan: PrivilegePlan) => string[] }> = [
  { objtype: 'r', objects: 'TABLES', privileges: (plan) => plan.table },
  { objtype: 'S', objects: 'SEQUENCES', privileges: (plan) => plan.sequence },
  { objtype: 'f', objects: 'FUNCTIONS', privileges: (plan) => plan.routine },
];

/**
 * Reads what the profile role still lacks in the current database: privileges are compared with
 * the ACLs themselves, so a privilege PUBLIC happens to hold (CONNECT, USAGE on public) is still
 * granted to the profile. Objects the connector cannot grant are reported, not granted.
 */
export async function readProfileGaps(
  client: Client,
  info: ServerInfo,
  item: GrantTargetItem,
  plan: PrivilegePlan,
  profileOid: number,
): Promise<ProfileGapReport> {
  const scope = await resolveScope(client, item);
  const ungrantedObjects: UngrantedObject[] = [];
  const gaps: ProfileGaps = { database: null, schemas: [], relations: [], routines: [], defaults: [] };

  const {
    rows: [db],
  } = await client.query<{ name: string; missing: string[]; grantable: boolean }>(
    `SELECT d.datname AS name, g.missing,
            NOT EXISTS (SELECT 1 FROM unnest(g.missing) p WHERE NOT has_database_privilege(d.oid, p || ' WITH GRANT OPTION')) AS grantable
       FROM pg_database d
      CROSS JOIN LATERAL (SELECT ARRAY(SELECT w.p FROM unnest($1::text[]) WITH ORDINALITY w(p, i)
                                        WHERE NOT EXISTS (SELECT 1 FROM aclexplode(d.datacl) a
                                                           WHERE a.grantee = $2::oid AND a.privilege_type = w.p)
                                        ORDER BY w.i) AS missing) g
      WHERE d.datname = current_database()`,
    [plan.database, profileOid],
  );
  if (db && db.missing.length > 0) {
    if (db.grantable) gaps.database = { name: db.name, missing: db.missing };
    else ungrantedObjects.push({ database: db.name, kind: 'database', name: db.name, privileges: db.missing });
  }
  const database = db?.name ?? item.database;

  const { rows: schemas } = await client.query<{ schema: string; missing: string[]; grantable: boolean }>(
    `SELECT n.nspname AS schema, g.missing,
            NOT EXISTS (SELECT 1 FROM unnest(g.missing) p WHERE NOT has_schema_privilege(n.oid, p || ' WITH GRANT OPTION')) AS grantable
       FROM pg_namespace n
      CROSS JOIN LATERAL (SELECT ARRAY(SELECT w.p FROM unnest($2::text[]) WITH ORDINALITY w(p, i)
                                        WHERE NOT EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a
                                                           WHERE a.grantee = $3::oid AND a.privilege_type = w.p)
                                        ORDER BY w.i) AS missing) g
      WHERE n.oid = ANY($1::oid[]) AND cardinality(g.missing) > 0
      ORDER BY n.nspname`,
    [scope.schemaOids, plan.schema, profileOid],
  );
  for (const s of schemas) {
    if (s.grantable) gaps.schemas.push({ schema: s.schema, missing: s.missing });
    else ungrantedObjects.push({ database, kind: 'schema', name: s.schema, privileges: s.missing });
  }

  // CASE, because has_sequence_privilege() fails on a relation that is not a sequence and
  // has_table_privilege() does not know USAGE.
  const { rows: relations } = await client.query<{ schema: string; name: string; sequence: boolean; missing: string[]; grantable: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'S' AS sequence, g.missing,
            NOT EXISTS (SELECT 1 FROM unnest(g.missing) p
                         WHERE NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, p || ' WITH GRANT OPTION')
                                        ELSE has_table_privilege(c.oid, p || ' WITH GRANT OPTION') END) AS grantable
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL (SELECT ARRAY(SELECT w.p FROM unnest(CASE WHEN c.relkind = 'S' THEN $4::text[] ELSE $3::text[] END) WITH ORDINALITY w(p, i)
                                        WHERE NOT EXISTS (SELECT 1 FROM aclexplode(c.relacl) a
                                                           WHERE a.grantee = $5::oid AND a.privilege_type = w.p)
                                        ORDER BY w.i) AS missing) g
      WHERE c.relnamespace = ANY($1::oid[])
        AND ($2::oid[] IS NULL OR c.oid = ANY($2::oid[]))
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND cardinality(g.missing) > 0
      ORDER BY n.nspname, c.relname`,
    [scope.schemaOids, scope.relationOids, plan.table, plan.sequence, profileOid],
  );
  for (const r of relations) {
    if (r.grantable) gaps.relations.push({ schema: r.schema, name: r.name, sequence: r.sequence, missing: r.missing });
    else ungrantedObjects.push({ database, kind: r.sequence ? 'sequence' : 'table', schema: r.schema, name: r.name, privileges: r.missing });
  }
  if (item.resourceType === 'postgresql-table' && relations.some((r) => !r.grantable && !r.sequence)) {
    throw new GrantError(
      'missing_privilege',
      `The connector user can neither grant on table ${quoteIdent(item.schema as string)}.${quoteIdent(item.table as string)} in database ${quoteIdent(database)} nor does it own it`,
      `GRANT ALL ON TABLE ${quoteIdent(item.schema as string)}.${quoteIdent(item.table as string)} TO ${quoteIdent(info.currentUser)} WITH GRANT OPTION;`,
    );
  }

  if (plan.routine.length > 0) {
    // Routines of extensions belong to the extension; PUBLIC keeps EXECUTE on them.
    const { rows: routines } = await client.query<{ schema: string; name: string; arg_types: Array<[string, string]>; grantable: boolean }>(
      `SELECT n.nspname AS schema, p.proname AS name,
              coalesce((SELECT json_agg(json_build_array(tn.nspname, t.typname) ORDER BY a.i)
                          FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY a(typ, i)
                          JOIN pg_type t ON t.oid = a.typ
                          JOIN pg_namespace tn ON tn.oid = t.typnamespace), '[]'::json) AS arg_types,
              has_function_privilege(p.oid, 'EXECUTE WITH GRANT OPTION') AS grantable
         FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.pronamespace = ANY($1::oid[])
          AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
          AND NOT EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = $2::oid AND a.privilege_type = 'EXECUTE')
        ORDER BY n.nspname, p.proname, p.oid`,
      [scope.schemaOids, profileOid],
    );
    for (const r of routines) {
      if (r.grantable) gaps.routines.push({ schema: r.schema, name: r.name, argTypes: r.arg_types });
      else ungrantedObjects.push({ database, kind: 'routine', schema: r.schema, name: r.name, privileges: ['EXECUTE'] });
    }
  }

  const uncoveredOwners: UncoveredOwner[] = [];
  if (plan.futureObjects) {
    const types = DEFAULT_OBJECT_TYPES.filter((t) => t.privileges(plan).length > 0);
    // pg_database_owner never creates objects itself; the owner of a schema is often it (PostgreSQL 15+).
    const { rows: defaults } = await client.query<{ schema: string; owner: string; objtype: string; missing: string[]; can_act: boolean }>(
      `WITH owners AS (
              SELECT n.oid AS nsp, n.nspowner AS owner FROM pg_namespace n WHERE n.oid = ANY($1::oid[])
              UNION
              SELECT c.relnamespace, c.relowner FROM pg_class c WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S'))
       SELECT n.nspname AS schema, r.rolname AS owner, t.objtype, g.missing,
              ($5::boolean OR pg_has_role(o.owner, $6)) AS can_act
         FROM owners o
         JOIN pg_namespace n ON n.oid = o.nsp
         JOIN pg_roles r ON r.oid = o.owner
        CROSS JOIN unnest($2::"char"[], $3::text[]) t(objtype, privileges)
        CROSS JOIN LATERAL (SELECT ARRAY(SELECT w.p FROM unnest(string_to_array(t.privileges, ',')) WITH ORDINALITY w(p, i)
                                          WHERE NOT EXISTS (SELECT 1 FROM pg_default_acl d CROSS JOIN aclexplode(d.defaclacl) a
                                                             WHERE d.defaclrole = o.owner AND d.defaclnamespace = o.nsp AND d.defaclobjtype = t.objtype
                                                               AND a.grantee = $4::oid AND a.privilege_type = w.p)
                                          ORDER BY w.i) AS missing) g
        WHERE r.rolname <> 'pg_database_owner' AND cardinality(g.missing) > 0
        ORDER BY n.nspname, r.rolname, t.objtype`,
      [
        scope.schemaOids,
        types.map((t) => t.objtype),
        types.map((t) => t.privileges(plan).join(',')),
        profileOid,
        info.superuser,
        info.majorVersion >= SET_OPTION_FROM_MAJOR ? 'SET' : 'MEMBER',
      ],
    );
    for (const d of defaults) {
      const objects = DEFAULT_OBJECT_TYPES.find((t) => t.objtype === d.objtype)?.objects;
      if (!objects) continue;
      if (d.can_act) gaps.defaults.push({ schema: d.schema, owner: d.owner, objects, missing: d.missing });
      else if (!uncoveredOwners.some((u) => u.schema === d.schema && u.owner === d.owner)) uncoveredOwners.push({ database, schema: d.schema, owner: d.owner });
    }
  }
  return { gaps, uncoveredOwners, ungrantedObjects };
}

/** The schemas (and for a table, the relations) an item covers; GrantError('not_found') when its schema or table is gone. */
async function resolveScope(client: Client, item: GrantTargetItem): Promise<Scope> {
  if (item.resourceType === 'postgresql-database') {
    const { rows } = await client.query<{ oid: number }>(
      `SELECT oid::int AS oid FROM pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname !~ '^pg_(toast_)?temp_'`,
    );
    return { schemaOids: rows.map((r) => r.oid), relationOids: null };
  }
  const {
    rows: [schema],
  } = await client.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_namespace WHERE nspname = $1', [item.schema]);
  if (!schema) throw new GrantError('not_found', `Schema ${quoteIdent(item.schema as string)} does not exist in database ${quoteIdent(item.database)}`);
  if (item.resourceType === 'postgresql-schema') return { schemaOids: [schema.oid], relationOids: null };
  // The table and the sequences its serial columns own: INSERT needs them.
  const { rows } = await client.query<{ oid: number }>(
    `SELECT c.oid::int AS oid FROM pg_class c
      WHERE c.relnamespace = $1::oid AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     UNION ALL
     SELECT d.objid::int FROM pg_depend d JOIN pg_class c ON c.oid = d.refobjid
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        AND c.relnamespace = $1::oid AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schema.oid, item.table],
  );
  if (rows.length === 0) {
    throw new GrantError(
      'not_found',
      `Table ${quoteIdent(item.schema as string)}.${quoteIdent(item.table as string)} does not exist in database ${quoteIdent(item.database)}`,
    );
  }
  return { schemaOids: [schema.oid], relationOids: rows.map((r) => r.oid) };
}
