import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SHARED_DATABASE_URL } from '@latchkey/testing';
import { lockForTransaction, withSessionLock } from './advisory-locks';

const name = `latchkey:test-lock:${randomBytes(4).toString('hex')}`;
let a: Client;
let b: Client;

let bPid: number;
const heldLocks = async () =>
  Number((await a.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = $1`, [bPid])).rows[0]!.n);

beforeAll(async () => {
  a = new Client({ connectionString: SHARED_DATABASE_URL });
  b = new Client({ connectionString: SHARED_DATABASE_URL });
  await Promise.all([a.connect(), b.connect()]);
  bPid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
});

afterAll(async () => {
  await Promise.all([a.end(), b.end()]);
});

describe('advisory locks', () => {
  it('withSessionLock without waiting gives up while another session holds the lock, and releases it after its work', async () => {
    let ran = false;
    const outer = await withSessionLock(
      a,
      name,
      async () => {
        const inner = await withSessionLock(b, name, async () => (ran = true), { wait: false });
        expect(inner).toEqual({ taken: false });
        return 'done';
      },
      { wait: true },
    );
    expect(outer).toEqual({ taken: true, value: 'done' });
    expect(ran).toBe(false);
    await expect(withSessionLock(b, name, async () => 7, { wait: false })).resolves.toEqual({ taken: true, value: 7 });
    expect(await heldLocks()).toBe(0);
  });

  it('withSessionLock releases the lock when its work throws', async () => {
    await expect(withSessionLock(b, name, async () => Promise.reject(new Error('boom')), { wait: true })).rejects.toThrow('boom');
    expect(await heldLocks()).toBe(0);
  });

  it('lockForTransaction makes a second transaction on the same key wait until the first ends, and keys apart do not', async () => {
    await a.query('BEGIN');
    await lockForTransaction(a, name, 'one');
    await b.query('BEGIN');
    await lockForTransaction(b, name, 'two');
    let second = false;
    const waiting = lockForTransaction(b, name, 'one').then(() => (second = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second).toBe(false);
    await a.query('COMMIT');
    await waiting;
    expect(second).toBe(true);
    await b.query('COMMIT');
    expect(await heldLocks()).toBe(0);
  });
});
