import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import type { EncryptedEnvelope } from '@latchkey/contracts';
import { decryptSecret, loadMasterKey, type MasterKey } from '@latchkey/secrets';
import { killAt, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR_USER = 'latchkey_rot';
const INITIAL_PASSWORD = `initial-${randomBytes(8).toString('hex')}`;
/** One "day" of credentialRotationDays lasts this many seconds in this suite. */
const DAY_SECONDS = 4;

describe('rotation of connector credentials on a scram-only PostgreSQL', () => {
  let pg: PgCluster;
  let t: TestStack;
  let masterKey: MasterKey;
  let integrationId: string;
  /** Every password the connector user had: none may ever appear in plaintext. */
  const passwords = new Set<string>([INITIAL_PASSWORD]);

  const body = (extra: Record<string, unknown> = {}) => ({
    name: 'rotating',
    type: 'postgresql',
    connectedResourceTypes: ['postgresql-database', 'postgresql-schema', 'postgresql-table'],
    config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
    ...extra,
  });
  const row = async () =>
    (
      await t.control<{ secret: { envelope: EncryptedEnvelope }; pending_secret: { envelope: EncryptedEnvelope } | null }>(
        'SELECT secret, pending_secret FROM catalog.integrations WHERE id = $1',
        [integrationId],
      )
    )[0]!;
  /** The password the catalog holds as current (and staged), opened with the suite's master key. */
  const stored = async () => {
    const r = await row();
    const current = decryptSecret(r.secret.envelope, masterKey).password;
    const pending = r.pending_secret ? decryptSecret(r.pending_secret.envelope, masterKey).password : null;
    passwords.add(current);
    if (pending) passwords.add(pending);
    return { current, pending };
  };
  /** A real login as the connector user: true, or false when the server refuses the password. */
  const canLogin = async (password: string) => {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user: CONNECTOR_USER, password, database: 'app' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '28P01') return false;
      throw err;
    }
  };
  const integration = async () => (await t.api('GET', `/api/v1/integrations/${integrationId}`)).body;
  const rotate = () => t.api('POST', `/api/v1/integrations/${integrationId}/rotate`);

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${INITIAL_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    t = await startTestStack({ env: { ROTATION_DAY_SECONDS: String(DAY_SECONDS) } });
    masterKey = loadMasterKey({ LATCHKEY_MASTER_KEY: t.env.LATCHKEY_MASTER_KEY });
    const res = await t.api('POST', '/api/v1/integrations', {
      body: body({ secret: { store: 'builtin', username: CONNECTOR_USER, password: INITIAL_PASSWORD } }),
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('ACTIVE');
    expect(res.body.rotation).toEqual({ lastRotatedAt: null, nextDueAt: null, lastAttemptAt: null, lastResult: null, lastError: null, pending: false });
    integrationId = res.body.id;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('rotates now: the old password is refused, the new one works, as a SCRAM verifier, and the run is audited', async () => {
    const res = await rotate();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      integrationId,
      result: 'rotated',
      rotation: { lastResult: 'rotated', lastError: null, pending: false, lastRotatedAt: expect.any(String) },
    });

    const { current, pending } = await stored();
    expect(pending).toBeNull();
    expect(current).not.toBe(INITIAL_PASSWORD);
    expect(await canLogin(INITIAL_PASSWORD)).toBe(false);
    expect(await canLogin(current)).toBe(true);
    const [{ rolpassword }] = await pg.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [CONNECTOR_USER]);
    expect(rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);

    // Latchkey itself keeps working with the new password.
    expect((await t.api('POST', `/api/v1/integrations/${integrationId}/test`)).body.integration.status).toBe('ACTIVE');

    // Durably audited through the catalog's outbox, with the admin as actor; the admin's create too.
    const audit = await waitUntil(
      'the rotation and the creation in the audit log',
      async () => {
        const { body: page } = await t.api('GET', `/api/v1/audit?targetId=${integrationId}`);
        const actions = (page.items ?? []).map((e: { action: string }) => e.action);
        return actions.includes('rotation.rotated') && actions.includes('integration.created') ? page.items : undefined;
      },
      60_000,
    );
    const rotated = audit.find((e: { action: string }) => e.action === 'rotation.rotated');
    expect(rotated).toMatchObject({ actor: { type: 'user' }, targetType: 'integration', details: { trigger: 'manual', staged: 'promote' } });
    const created = audit.find((e: { action: string }) => e.action === 'integration.created');
    expect(created.diff.secretStore).toEqual({ after: { store: 'builtin' } });
    // The outbox is drained after the entries land: under load, a moment later.
    await waitUntil('the catalog audit outbox drained', async () => (await t.control('SELECT id FROM catalog.audit_outbox')).length === 0, 60_000);
  });

  it.each(['after-stage', 'after-set', 'after-verify'] as const)(
    'repairs a rotation killed %s on the next start, without locking Latchkey out',
    async (step) => {
      const before = (await stored()).current;
      await t.stack.kill('rotation');
      t.stack.startProcess('rotation', 'rotation', killAt('latchkey.rotation.step', step));
      await t.stack.waitHealthy();
      // The process kills itself mid-run: the request is left without an answer.
      void rotate().catch(() => undefined);
      await waitUntil('the rotation process to kill itself', async () => !t.stack.isRunning('rotation'), 60_000);

      const { pending } = await stored();
      expect(pending).not.toBeNull();
      expect((await integration()).rotation.pending).toBe(true);
      const setOnDatabase = step !== 'after-stage';
      expect(await canLogin(before)).toBe(!setOnDatabase);
      expect(await canLogin(pending!)).toBe(setOnDatabase);
      // Connection tests (and grants, discovery) fall back to the staged password meanwhile.
      expect((await t.api('POST', `/api/v1/integrations/${integrationId}/test`)).body.integration.status).toBe('ACTIVE');

      t.stack.startProcess('rotation', 'rotation');
      const repaired = await waitUntil(
        'the interrupted rotation repaired',
        async () => {
          const i = await integration();
          return !i.rotation.pending && i.rotation.lastResult === 'repaired' ? i : undefined;
        },
        60_000,
      );
      expect(repaired.rotation.lastError).toBeNull();
      const after = await stored();
      expect(after.pending).toBeNull();
      expect(after.current).toBe(setOnDatabase ? pending : before);
      expect(await canLogin(after.current)).toBe(true);
      if (setOnDatabase) expect(await canLogin(before)).toBe(false);

      // And the next rotation runs as usual.
      expect((await rotate()).body.result).toBe('rotated');
      expect(await canLogin((await stored()).current)).toBe(true);
    },
  );

  it('rotates on schedule; changing the setting re-plans it, removing it stops it; env secrets are refused', async () => {
    const previous = (await integration()).rotation.lastRotatedAt;
    const planned = await t.api('PUT', `/api/v1/integrations/${integrationId}`, { body: body({ credentialRotationDays: 1000 }) });
    expect(planned.status).toBe(200);
    const first = await waitUntil('the schedule planned', async () => (await integration()).rotation.nextDueAt, 60_000);

    // A shorter period moves the due time earlier: the credential's age counts, not the change.
    await t.api('PUT', `/api/v1/integrations/${integrationId}`, { body: body({ credentialRotationDays: 1 }) });
    const replanned = await waitUntil(
      'the schedule planned again',
      async () => {
        const due = (await integration()).rotation.nextDueAt;
        return due && Date.parse(due) < Date.parse(first) ? due : undefined;
      },
      60_000,
    );
    expect(Date.parse(first) - Date.parse(replanned)).toBe(999 * DAY_SECONDS * 1000);

    const fired = await waitUntil(
      'a scheduled rotation',
      async () => {
        const { rotation } = await integration();
        return rotation.lastRotatedAt !== previous && rotation.lastResult === 'rotated' && Date.parse(rotation.nextDueAt) > Date.parse(rotation.lastRotatedAt)
          ? rotation
          : undefined;
      },
      60_000,
    );
    expect(Date.parse(fired.nextDueAt) - Date.parse(fired.lastRotatedAt)).toBeLessThanOrEqual(DAY_SECONDS * 1000);

    const schedulers = new Queue('rotation-local', { connection: { host: '127.0.0.1', port: t.redis.port } });
    try {
      await waitUntil('one schedule in Redis', async () => (await schedulers.getJobSchedulersCount()) === 1, 60_000);
      const off = await t.api('PUT', `/api/v1/integrations/${integrationId}`, { body: body() });
      expect(off.body.rotation.nextDueAt).toBeNull();
      await waitUntil('the schedule removed', async () => (await schedulers.getJobSchedulersCount()) === 0, 60_000);
    } finally {
      await schedulers.close();
    }

    // Each admin change is audited with its actor and what changed; scheduled runs as Latchkey itself.
    const audit = await waitUntil(
      'the changes and the scheduled run in the audit log',
      async () => {
        const { body: page } = await t.api('GET', `/api/v1/audit?targetId=${integrationId}&pageSize=200`);
        const items = (page.items ?? []) as Array<{ action: string; actor: { type: string }; diff?: Record<string, unknown>; details?: { trigger?: string } }>;
        const scheduled = items.find((e) => e.action === 'rotation.rotated' && e.details?.trigger === 'scheduled');
        return scheduled && items.filter((e) => e.action === 'integration.updated').length >= 3 ? { items, scheduled } : undefined;
      },
      60_000,
    );
    expect(audit.scheduled.actor).toEqual({ type: 'system', id: 'latchkey' });
    expect(audit.items.filter((e) => e.action === 'rotation.repaired').map((e) => e.details?.trigger)).toEqual(['repair', 'repair', 'repair']);
    expect(audit.items.find((e) => e.action === 'integration.updated' && e.actor.type === 'user')?.diff).toBeDefined();
    expect(audit.items.map((e) => e.diff?.credentialRotationDays).filter(Boolean)).toEqual(
      expect.arrayContaining([
        { before: null, after: 1000 },
        { before: 1000, after: 1 },
        { before: 1, after: null },
      ]),
    );

    const refused = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: 'from-env', secret: { store: 'env', usernameVar: 'PGUSER_X', passwordVar: 'PGPASSWORD_X' }, credentialRotationDays: 30 }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details.issues).toEqual([{ field: 'credentialRotationDays', rule: expect.stringContaining('builtin') }]);
  });

  it('never shows a password in plaintext: not in logs, API answers, or the control database', async () => {
    // Every table of every service, as text.
    const tables = await t.control<{ dump: string }>(
      `SELECT query_to_xml(format('SELECT * FROM %I.%I', table_schema, table_name), true, false, '')::text AS dump
         FROM information_schema.tables
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
    );
    const dump = tables.map((r) => r.dump).join('\n');
    expect(dump).toContain(integrationId);
    expect(passwords.size).toBeGreaterThan(4);
    const logs = t.stack.output();
    for (const password of passwords) {
      expect({ password, inLogs: logs.includes(password) }).toEqual({ password, inLogs: false });
      expect({ password, inAnswers: t.responses.some((r) => r.includes(password)) }).toEqual({ password, inAnswers: false });
      expect({ password, inControlDb: dump.includes(password) }).toEqual({ password, inControlDb: false });
    }
  });
});
