import type { ResourceKind, ResourceType } from '@latchkey/contracts';

/**
 * The resource type of each kind. Views, materialized views, foreign and partitioned tables and
 * sequences are granted as tables are (SELECT, and USAGE on sequences), so they are
 * `postgresql-table` resources; their kind says what they are.
 */
export const TYPE_OF_KIND: Readonly<Record<ResourceKind, ResourceType>> = {
  database: 'postgresql-database',
  schema: 'postgresql-schema',
  table: 'postgresql-table',
  partitioned_table: 'postgresql-table',
  view: 'postgresql-table',
  materialized_view: 'postgresql-table',
  foreign_table: 'postgresql-table',
  sequence: 'postgresql-table',
  role: 'postgresql-role',
};

/** The kinds an integration discovers: those whose type its connectedResourceTypes name. */
export function kindsOf(types: readonly ResourceType[]): Set<ResourceKind> {
  return new Set((Object.keys(TYPE_OF_KIND) as ResourceKind[]).filter((kind) => types.includes(TYPE_OF_KIND[kind])));
}
