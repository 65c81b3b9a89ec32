import { Pool } from 'pg';
import { startTestStack } from '@latchkey/testing';
import { benchServiceEnv, ms, percentile, pool } from './stats';

const USERS = Number(process.env.BENCH_SCIM_USERS ?? 10_000);
const GROUPS = Number(process.env.BENCH_SCIM_GROUPS ?? 500);
/** Okta's provisioning runs a few calls at a time per app. */
const CONCURRENCY = 8;
/** Group members per PATCH, as Okta batches a group push. */
const MEMBERS_PER_PATCH = 25;
/** Each user is pushed into this many groups. */
const GROUPS_PER_USER = 2;

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * A SCIM push as Okta makes it, against `/scim/v2` of a real gateway and access service: USERS
 * users created one POST each, GROUPS groups created, then their members added by PATCH in
 * batches of MEMBERS_PER_PATCH (each user in GROUPS_PER_USER groups). Every call must answer 2xx;
 * afterwards the control database must hold exactly those users and memberships. Beside it, the
 * raw floor: the same rows written by single-statement INSERTs over a pg pool at the same concurrency.
 */
export async function benchScim(): Promise<Array<[string, string]>> {
  const rows: Array<[string, string]> = [];
  const t = await startTestStack({ services: ['api-gateway', 'access'], env: benchServiceEnv({ LOG_LEVEL: 'warn' }) });
  const db = new Pool({ connectionString: t.databaseUrl, max: CONCURRENCY });
  try {
    const created = await t.api('POST', '/api/v1/scim-tokens', { body: { name: 'bench okta' } });
    if (created.status !== 201) throw new Error(`scim token: ${created.text}`);
    const token = created.body.token as string;
    let errors = 0;
    const call = async (method: string, path: string, body: unknown): Promise<{ ms: number; body: any }> => {
      const start = performance.now();
      const res = await fetch(`${t.url}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', 'content-type': 'application/scim+json; charset=utf-8' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      const took = performance.now() - start;
      if (res.status >= 300) {
        errors += 1;
        if (errors <= 3) process.stderr.write(`  SCIM ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}\n`);
      }
      return { ms: took, body: text ? JSON.parse(text) : null };
    };

    const users = Array.from({ length: USERS }, (_, i) => ({ i, email: `user${i}@scim-bench.test` }));
    const started = performance.now();
    const userCalls = await pool(users, CONCURRENCY, (u) =>
      call('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: u.email,
        externalId: `00u${u.i}`,
        name: { givenName: 'User', familyName: String(u.i) },
        emails: [{ value: u.email, primary: true, type: 'work' }],
        active: true,
      }),
    );
    const userIds = userCalls.map((c) => c.body?.id as string);
    const usersDone = performance.now();
    const groupCalls = await pool(
      Array.from({ length: GROUPS }, (_, g) => g),
      CONCURRENCY,
      (g) => call('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `team-${g}`, externalId: `00g${g}`, members: [] }),
    );
    const groupIds = groupCalls.map((c) => c.body?.id as string);
    // Members of each group, in PATCH batches.
    const patches: Array<{ groupId: string; members: string[] }> = [];
    const membersOf = new Map<number, string[]>();
    userIds.forEach((id, u) => {
      for (let k = 0; k < GROUPS_PER_USER; k += 1) {
        const g = (u + k * Math.ceil(GROUPS / GROUPS_PER_USER)) % GROUPS;
        membersOf.set(g, [...(membersOf.get(g) ?? []), id]);
      }
    });
    for (const [g, members] of membersOf) {
      for (let at = 0; at < members.length; at += MEMBERS_PER_PATCH) patches.push({ groupId: groupIds[g], members: members.slice(at, at + MEMBERS_PER_PATCH) });
    }
    const patchCalls = await pool(patches, CONCURRENCY, (p) =>
      call('PATCH', `/Groups/${p.groupId}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'add', path: 'members', value: p.members.map((value) => ({ value })) }],
      }),
    );
    const finished = performance.now();

    const [{ users: storedUsers }] = await t.control<{ users: string }>(
      "SELECT count(*)::text AS users FROM access.users WHERE email LIKE '%@scim-bench.test'",
    );
    const [{ memberships }] = await t.control<{ memberships: string }>(
      "SELECT count(*)::text AS memberships FROM access.user_groups ug JOIN access.users u ON u.id = ug.user_id WHERE u.email LIKE '%@scim-bench.test'",
    );

    // The raw floor: the same users, groups and memberships, one INSERT per call, same concurrency.
    await db.query(
      'CREATE TABLE bench_users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL, name text NOT NULL, external_id text, active boolean NOT NULL)',
    );
    await db.query('CREATE UNIQUE INDEX ON bench_users (lower(email))');
    await db.query('CREATE TABLE bench_groups (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL UNIQUE)');
    await db.query('CREATE TABLE bench_members (user_id uuid REFERENCES bench_users, group_id uuid REFERENCES bench_groups, PRIMARY KEY (user_id, group_id))');
    const timed = async (sql: string, params: unknown[]) => {
      const start = performance.now();
      const res = await db.query(sql, params);
      return { ms: performance.now() - start, id: res.rows[0]?.id as string };
    };
    const rawStarted = performance.now();
    const rawUsers = await pool(users, CONCURRENCY, (u) =>
      timed('INSERT INTO bench_users (email, name, external_id, active) VALUES ($1, $2, $3, true) RETURNING id', [u.email, `User ${u.i}`, `00u${u.i}`]),
    );
    const rawGroups = await pool(
      Array.from({ length: GROUPS }, (_, g) => g),
      CONCURRENCY,
      (g) => timed('INSERT INTO bench_groups (name) VALUES ($1) RETURNING id', [`team-${g}`]),
    );
    const rawIds = new Map(userIds.map((id, u) => [id, rawUsers[u].id]));
    const rawPatches = await pool(patches, CONCURRENCY, (p) =>
      timed('INSERT INTO bench_members (user_id, group_id) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING', [
        p.members.map((m) => rawIds.get(m)),
        rawGroups[groupIds.indexOf(p.groupId)].id,
      ]),
    );
    const rawFinished = performance.now();

    const p95 = (calls: Array<{ ms: number }>) =>
      ms(
        percentile(
          calls.map((c) => c.ms),
          95,
        ),
      );
    rows.push(['push', `${USERS} users, ${GROUPS} groups, ${patches.length} member PATCHes of up to ${MEMBERS_PER_PATCH} (${CONCURRENCY} at a time)`]);
    rows.push(['errors (non-2xx answers)', String(errors)]);
    rows.push(['stored afterwards', `${storedUsers} users, ${memberships} memberships (expected ${USERS}, ${USERS * GROUPS_PER_USER})`]);
    rows.push([
      'whole push',
      `${((finished - started) / 1000).toFixed(1)} s (users ${((usersDone - started) / 1000).toFixed(1)} s)   raw SQL: ${((rawFinished - rawStarted) / 1000).toFixed(1)} s`,
    ]);
    rows.push([
      'POST /Users p50 / p95',
      `${ms(
        percentile(
          userCalls.map((c) => c.ms),
          50,
        ),
      )} / ${p95(userCalls)}   raw INSERT: ${ms(
        percentile(
          rawUsers.map((c) => c.ms),
          50,
        ),
      )} / ${p95(rawUsers)}`,
    ]);
    rows.push(['POST /Groups p95', `${p95(groupCalls)}   raw INSERT: ${p95(rawGroups)}`]);
    rows.push(['PATCH /Groups members p95', `${p95(patchCalls)}   raw INSERT: ${p95(rawPatches)}`]);
    if (errors > 0 || Number(storedUsers) !== USERS || Number(memberships) !== USERS * GROUPS_PER_USER)
      throw new Error(`SCIM push incomplete:\n${rows.map((r) => r.join(': ')).join('\n')}`);
    return rows;
  } finally {
    await db.end();
    await t.dispose();
  }
}
