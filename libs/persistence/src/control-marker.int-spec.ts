import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { CONTROL_DATABASE_TAG } from '@latchkey/contracts';
import { SHARED_DATABASE_URL, withDatabase } from '@latchkey/testing';
import { markControlDatabase } from './data-source';

const suffix = randomBytes(4).toString('hex');
const DB = `latchkey_marker_${suffix}`;
const OUTSIDER = `latchkey_marker_outsider_${suffix}`;
let admin: Client;

const commentOf = async () =>
  (await admin.query<{ c: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1`, [DB])).rows[0]!.c;

beforeAll(async () => {
  admin = new Client({ connectionString: SHARED_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`CREATE ROLE ${OUTSIDER} LOGIN`);
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS ${OUTSIDER}`);
  await admin.end();
});

describe('markControlDatabase', () => {
  it('puts the tag line in the comment once, even from several services starting together', async () => {
    const url = withDatabase(SHARED_DATABASE_URL, DB);
    await expect(Promise.all(Array.from({ length: 6 }, () => markControlDatabase(url)))).resolves.toEqual(Array(6).fill(null));
    const comment = await commentOf();
    expect(comment?.split('\n').filter((line) => line === CONTROL_DATABASE_TAG)).toHaveLength(1);
    expect(comment).toMatch(/^Latchkey control database/);
  });

  it('keeps what an administrator wrote and adds the line back when it was removed', async () => {
    await admin.query(`COMMENT ON DATABASE ${DB} IS 'Owned by the platform team'`);
    await markControlDatabase(withDatabase(SHARED_DATABASE_URL, DB));
    expect(await commentOf()).toBe(`Owned by the platform team\n${CONTROL_DATABASE_TAG}`);
    await markControlDatabase(withDatabase(SHARED_DATABASE_URL, DB));
    expect(await commentOf()).toBe(`Owned by the platform team\n${CONTROL_DATABASE_TAG}`);
  });

  it('answers why when the user may not comment on the database, changing nothing', async () => {
    await admin.query(`COMMENT ON DATABASE ${DB} IS NULL`);
    const url = new URL(withDatabase(SHARED_DATABASE_URL, DB));
    url.username = OUTSIDER;
    url.password = '';
    await expect(markControlDatabase(url.toString())).resolves.toMatch(/must be owner of database/);
    expect(await commentOf()).toBeNull();
  });
});
