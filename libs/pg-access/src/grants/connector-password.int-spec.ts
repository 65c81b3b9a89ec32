import { type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import type { TargetConnectionParams } from '../connection';
import { quoteIdent, quoteLiteral } from '../quote';
import { canLogin, lockConnectorUser } from './connector-password';

const USER = 'latchkey_rotating';
const OLD = 'old-password-0123456789';

let cluster: PgCluster;
let conn: TargetConnectionParams;

beforeAll(async () => {
  cluster = await startPgCluster({ hba: 'scram' });
  await cluster.query(`CREATE ROLE ${quoteIdent(USER)} LOGIN PASSWORD ${quoteLiteral(OLD)}`);
  conn = { ...cluster.connectionParams(), username: USER, password: OLD };
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.stop();
});

const rotationLocks = () =>
  cluster.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.usename = $1`,
    [USER],
  );

describe("the connector user's password on the target", () => {
  it("sets a new password as a SCRAM verifier under the user's rotation lock: the new one logs in, the old one is refused", async () => {
    const session = await lockConnectorUser(conn);
    try {
      expect(await rotationLocks()).toHaveLength(1);
      await session.setPassword(USER, 'new-password-0123456789');
    } finally {
      await session.release();
    }
    expect(await rotationLocks()).toHaveLength(0);
    const [{ rolpassword }] = await cluster.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [USER]);
    expect(rolpassword).toMatch(/^SCRAM-SHA-256\$/);
    await expect(canLogin({ ...conn, password: 'new-password-0123456789' })).resolves.toBe(true);
    await expect(canLogin(conn)).resolves.toBe(false);
    conn = { ...conn, password: 'new-password-0123456789' };
  });

  it('lets one rotation of a user run at a time: a second lock waits until the first session ends', async () => {
    const first = await lockConnectorUser(conn);
    let secondTaken = false;
    const second = lockConnectorUser(conn).then((session) => {
      secondTaken = true;
      return session;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secondTaken).toBe(false);
    await first.release();
    const session = await second;
    expect(await rotationLocks()).toHaveLength(1);
    await session.release();
  });

  it('takes the lock with the staged password when the current one is refused', async () => {
    const session = await lockConnectorUser({ ...conn, password: 'not-it', pendingPassword: conn.password });
    await session.release();
    await expect(canLogin({ ...conn, password: 'not-it', pendingPassword: conn.password })).resolves.toBe(false);
  });
});
