/**
 * The one way Latchkey takes PostgreSQL advisory locks on its control database. A lock is named
 * by a namespace (`latchkey:<what>`) and, for locks per object, the object's key: the two-key
 * form `pg_advisory_xact_lock(hashtext(namespace), hashtext(key))` keeps objects of different
 * namespaces apart. NEVER change a name or switch a lock between the one- and two-key forms:
 * replicas of the old and new code running together would stop excluding each other.
 */

/** Anything that runs SQL on one session: a TypeORM EntityManager or QueryRunner, a `pg` client. */
export interface LockSession {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

const XACT_ONE = 'SELECT pg_advisory_xact_lock(hashtext($1))';
const XACT_TWO = 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))';

/** Waits for the lock `namespace` (or `namespace` + `key`), held until the session's transaction ends. */
export async function lockForTransaction(session: LockSession, namespace: string, key?: string): Promise<void> {
  await (key === undefined ? session.query(XACT_ONE, [namespace]) : session.query(XACT_TWO, [namespace, key]));
}

/**
 * Runs `work` holding the session-level lock `name` (outside any transaction), and releases it
 * after, whatever `work` did. `wait: false` gives up at once when another session holds it:
 * the answer is then `{ taken: false }` and `work` does not run.
 */
export async function withSessionLock<T>(
  session: LockSession,
  name: string,
  work: () => Promise<T>,
  options: { wait: boolean },
): Promise<{ taken: true; value: T } | { taken: false }> {
  if (options.wait) {
    await session.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
  } else {
    const rows = (await session.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [name])) as
      { locked: boolean }[] | { rows: { locked: boolean }[] };
    const [{ locked }] = Array.isArray(rows) ? rows : rows.rows;
    if (!locked) return { taken: false };
  }
  try {
    return { taken: true, value: await work() };
  } finally {
    // A session that died took its locks with it: nothing to release then.
    await session.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
  }
}
