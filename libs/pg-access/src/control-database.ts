import { CONTROL_DATABASE_TAG } from '@latchkey/contracts';
import { quoteLiteral } from './quote';

/**
 * Latchkey's control database is recognised by the tag line it carries in its COMMENT (written by
 * every service at start, see libs/persistence), not by comparing host names: a connector may
 * reach the instance under another name, port or proxy, or from another network, and need not
 * know the control database's URL at all. COMMENT ON DATABASE lives in a shared catalog
 * (pg_shdescription), so a connector sees it from any database, even one it may not connect to.
 */
const TAG_LINE = `(^|\\n)\\s*${CONTROL_DATABASE_TAG.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\s*(\\r?\\n|$)`;

/** True when the database whose oid is `databaseOid` (an SQL expression) is a Latchkey control database. */
export function isControlDatabaseSql(databaseOid: string): string {
  return `EXISTS (SELECT 1 FROM pg_shdescription cd
                   WHERE cd.objoid = ${databaseOid} AND cd.classoid = 'pg_database'::regclass
                     AND cd.description ~ ${quoteLiteral(TAG_LINE)})`;
}
