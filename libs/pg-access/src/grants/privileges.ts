import { GrantError } from './grant-error';
import type { GrantTargetItem } from './grant-types';

/** What a profile role holds, object kind by object kind. Keywords as GRANT spells them. */
export interface PrivilegePlan {
  database: string[];
  schema: string[];
  table: string[];
  sequence: string[];
  routine: string[];
  /** Database and schema scope also cover objects created later (ALTER DEFAULT PRIVILEGES). */
  futureObjects: boolean;
}

// PostgreSQL 17 added MAINTAIN to what ALL means on a table.
const MAINTAIN_FROM_MAJOR = 17;
const READ_TABLE = ['SELECT'];
const WRITE_TABLE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
const ALL_TABLE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
const READ_SEQUENCE = ['SELECT'];
const ALL_SEQUENCE = ['SELECT', 'USAGE', 'UPDATE'];

/** Every keyword a plan can hold: statements are built from these alone. */
export const KNOWN_PRIVILEGES: ReadonlySet<string> = new Set([...ALL_TABLE, 'MAINTAIN', 'USAGE', 'CREATE', 'CONNECT', 'TEMPORARY', 'EXECUTE']);

/** The privileges of a profile role, per DESIGN.md: READ_ONLY, READ_WRITE or ADMIN at database, schema or table scope. */
export function privilegePlan(item: GrantTargetItem, majorVersion: number): PrivilegePlan {
  const databaseScope = item.resourceType === 'postgresql-database';
  const futureObjects = databaseScope || item.resourceType === 'postgresql-schema';
  switch (item.permission) {
    case 'READ_ONLY':
      return { database: ['CONNECT'], schema: ['USAGE'], table: READ_TABLE, sequence: READ_SEQUENCE, routine: [], futureObjects };
    case 'READ_WRITE':
      return { database: ['CONNECT'], schema: ['USAGE'], table: WRITE_TABLE, sequence: ALL_SEQUENCE, routine: [], futureObjects };
    case 'ADMIN':
      return {
        database: databaseScope ? ['CONNECT', 'CREATE', 'TEMPORARY'] : ['CONNECT'],
        // A table-scoped ADMIN administers the table, not its schema.
        schema: item.resourceType === 'postgresql-table' ? ['USAGE'] : ['USAGE', 'CREATE'],
        table: majorVersion >= MAINTAIN_FROM_MAJOR ? [...ALL_TABLE, 'MAINTAIN'] : ALL_TABLE,
        sequence: ALL_SEQUENCE,
        routine: item.resourceType === 'postgresql-table' ? [] : ['EXECUTE'],
        futureObjects,
      };
    case 'MEMBER':
      throw new GrantError('invalid_item', 'MEMBER grants membership in a role, not object privileges');
  }
}
