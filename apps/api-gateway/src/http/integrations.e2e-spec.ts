import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createUser, SHARED_DATABASE_URL, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';
import { ServiceName } from '@latchkey/contracts';

const TARGET = { hostname: '127.0.0.1', port: 5432, dbname: 'postgres', sslmode: 'disable' };
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const suffix = randomBytes(3).toString('hex');
const LIMITED_ROLE = `lk_e2e_limited_${suffix}`;
/** A connector login that must reach no one but admins: it only shows in lastTest's fix SQL. */
const HIDDEN_ROLE = `lk_e2e_hidden_${suffix}`;

const body = (overrides: Record<string, unknown> = {}) => ({
  name: `Local PG ${suffix}`,
  type: 'postgresql',
  connectorId: 'local',
  connectedResourceTypes: ['postgresql-database', 'postgresql-table'],
  config: TARGET,
  secret: { store: 'builtin', username: 'postgres', password: PASSWORD },
  ...overrides,
});

describe('integrations through the gateway', () => {
  let t: TestStack;
  let shared: Client;
  let secretDir: string;

  beforeAll(async () => {
    secretDir = mkdtempSync(join(tmpdir(), 'latchkey-secret-'));
    t = await startTestStack({ env: { E2E_PG_USER: 'postgres', E2E_PG_PASSWORD: PASSWORD } });
    // Rotation plans every schedule from the catalog once at start (retrying while the catalog is not
    // up yet); if that pass met the integration the lifecycle creates, it would plan it before the
    // change event does, and the event's planning would find nothing to do and log nothing.
    await waitUntil('rotation reconciled with the catalog', async () => t.stack.output('rotation').includes('rotations reconciled with the catalog'));
    shared = new Client({ connectionString: SHARED_DATABASE_URL });
    await shared.connect();
    await shared.query(`CREATE ROLE ${LIMITED_ROLE} LOGIN`);
    await shared.query(`CREATE ROLE ${HIDDEN_ROLE} LOGIN`);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await shared?.query(`DROP ROLE IF EXISTS ${LIMITED_ROLE}`);
    await shared?.query(`DROP ROLE IF EXISTS ${HIDDEN_ROLE}`);
    await shared?.end();
    rmSync(secretDir, { recursive: true, force: true });
  });

  it('answers /health once every service answers, naming each', async () => {
    const res = await t.api('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.services).sort()).toEqual([...ServiceName.options].sort());
  });

  it('describes the postgresql integration type in the catalog', async () => {
    const res = await t.api('GET', '/api/v1/catalog');
    expect(res.status).toBe(200);
    const pg = res.body.items.find((i: { type: string }) => i.type === 'postgresql');
    expect(pg.minimumConnectorVersion).toBe('1.3.0');
    expect(pg.configDefaults).toEqual({ port: 5432, dbname: 'postgres', sslmode: 'prefer' });
    expect(pg.configSchema.properties.sslmode.enum).toEqual(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
    expect(pg.configSchema.properties.port.default).toBe(5432);
    expect(pg.secretStores).toEqual(['builtin', 'env', 'file']);
    expect(pg.resourceTypes).toEqual([
      { type: 'postgresql-database', permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'] },
      { type: 'postgresql-schema', permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'] },
      { type: 'postgresql-table', permissions: ['READ_ONLY', 'READ_WRITE', 'ADMIN'] },
      { type: 'postgresql-role', permissions: ['MEMBER'] },
    ]);
  });

  it('lists the local connector as CONNECTED with its version and services', async () => {
    const res = await t.api('GET', '/api/v1/connectors');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({ id: 'local', version: '1.3.0', status: 'CONNECTED', services: ['discovery', 'provisioning', 'rotation'] }),
    ]);
  });

  describe('auth', () => {
    let userToken: string;
    beforeAll(async () => {
      userToken = (await createUser(t)).token;
    });

    it('refuses a missing or unknown token with 401', async () => {
      for (const token of [null, 'lk_not-a-token']) {
        const res = await t.api('GET', '/api/v1/integrations', { token });
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('UNAUTHENTICATED');
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    });

    it('refuses a user token on admin routes with 403 and lets it read', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      const adminRoutes: Array<[string, string]> = [
        ['POST', '/api/v1/integrations'],
        ['PUT', `/api/v1/integrations/${id}`],
        ['DELETE', `/api/v1/integrations/${id}`],
        ['POST', `/api/v1/integrations/${id}/test`],
        ['GET', '/api/v1/connectors'],
      ];
      for (const [method, path] of adminRoutes) {
        const res = await t.api(method, path, { token: userToken, body: method === 'GET' ? undefined : {} });
        expect({ method, path, status: res.status, code: res.body.code }).toEqual({ method, path, status: 403, code: 'FORBIDDEN' });
      }
      expect((await t.api('GET', '/api/v1/catalog', { token: userToken })).status).toBe(200);
      expect((await t.api('GET', '/api/v1/integrations', { token: userToken })).status).toBe(200);
    });
  });

  it('names every broken rule in one 400', async () => {
    const res = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: ' bad;name ',
        type: 'postgresql',
        connectedResourceTypes: [],
        config: { hostname: 'no spaces allowed', port: 70000, sslmode: 'sometimes', dbname: '' },
        secret: { store: 'vault' },
        credentialRotationDays: 0,
        customAccessDetails: 'x'.repeat(401),
        resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const fields = res.body.details.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'connectedResourceTypes',
        'config.hostname',
        'config.port',
        'config.sslmode',
        'config.dbname',
        'secret.store',
        'credentialRotationDays',
        'customAccessDetails',
        'integrationOwners',
      ]),
    );
    const owners = res.body.details.issues.find((i: { field: string }) => i.field === 'integrationOwners');
    expect(owners.rule).toBe('When Resource Owner is defined, an Integration Owner must be defined.');
    expect(res.text).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('refuses bad JSON, unknown routes and bad ids with envelopes', async () => {
    const bad = await t.api('POST', '/api/v1/integrations', { raw: '{"name": ' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ field: '(body)' }] } });
    const missing = await t.api('GET', '/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    const badId = await t.api('GET', '/api/v1/integrations/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.body.details.issues).toEqual([{ field: 'id', rule: 'must be a UUID' }]);
  });

  describe('lifecycle', () => {
    let id: string;

    it('creates an integration, tests it through the connector and sets it ACTIVE', async () => {
      const res = await t.api('POST', '/api/v1/integrations', {
        body: body({
          credentialRotationDays: 30,
          customAccessDetails: 'Use the VPN first.',
          integrationOwners: [{ attribute: 'group', values: ['dba'] }],
          resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'team' }],
          config: { hostname: '127.0.0.1', sslmode: 'disable' },
        }),
        headers: { 'x-correlation-id': `e2e-create-${suffix}` },
      });
      expect(res.status).toBe(201);
      id = res.body.id;
      expect(res.body).toMatchObject({
        status: 'ACTIVE',
        statusReason: null,
        config: { hostname: '127.0.0.1', port: 5432, dbname: 'postgres', sslmode: 'disable' },
        secret: { store: 'builtin' },
        credentialRotationDays: 30,
        customAccessDetails: 'Use the VPN first.',
      });
      expect(res.headers.get('x-correlation-id')).toBe(`e2e-create-${suffix}`);
      const report = res.body.lastTest;
      expect(report).toMatchObject({ ok: true, connected: true, tls: false, connectorId: 'local', user: 'postgres', superuser: true });
      expect(report.serverVersionNum).toBeGreaterThanOrEqual(130000);
      expect(report.checks.map((c: { id: string }) => c.id)).toEqual(
        expect.arrayContaining(['connect', 'create_roles', 'grant_database', 'terminate_backends', 'admin_option']),
      );
    });

    it('carries the correlation id from the HTTP request into the catalog and connector logs', async () => {
      const tagged = () => new Set(t.stack.lines.filter((l) => l.line.includes(`"correlationId":"e2e-create-${suffix}"`)).map((l) => l.service));
      // Log lines reach the test through pipes, a moment after the answer.
      for (let i = 0; i < 200 && tagged().size < 4; i += 1) await new Promise((r) => setTimeout(r, 100));
      // rotation plans the schedule of credentialRotationDays when it hears of the new integration
      expect(tagged()).toEqual(new Set(['api-gateway', 'integration-catalog', 'provisioning', 'rotation']));
    });

    it('keeps names unique regardless of case', async () => {
      const res = await t.api('POST', '/api/v1/integrations', { body: body({ name: `LOCAL pg ${suffix}`.toUpperCase() }) });
      expect(res.status).toBe(409);
      expect(res.body.details.issues).toEqual([{ field: 'name', rule: 'must be unique regardless of case' }]);
    });

    it('gets, lists with pages, updates (keeping the secret) and tests again', async () => {
      expect((await t.api('GET', `/api/v1/integrations/${id}`)).body.id).toBe(id);
      const second = await t.api('POST', '/api/v1/integrations', { body: body({ name: `second ${suffix}` }) });
      expect(second.status).toBe(201);
      const page1 = await t.api('GET', '/api/v1/integrations?pageSize=1');
      expect(page1.body.items).toHaveLength(1);
      const page2 = await t.api('GET', `/api/v1/integrations?pageSize=1&pageToken=${page1.body.nextPageToken}`);
      expect(page2.body.items[0].id).not.toBe(page1.body.items[0].id);
      expect((await t.api('GET', '/api/v1/integrations?pageSize=0')).status).toBe(400);

      const { secret: _secret, ...withoutSecret } = body({ name: `Renamed ${suffix}`, customAccessDetails: null });
      const updated = await t.api('PUT', `/api/v1/integrations/${id}`, { body: withoutSecret });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ name: `Renamed ${suffix}`, status: 'ACTIVE', customAccessDetails: null });

      const tested = await t.api('POST', `/api/v1/integrations/${id}/test`);
      expect(tested.status).toBe(200);
      expect(tested.body.report.ok).toBe(true);
      expect(tested.body.integration.status).toBe('ACTIVE');
      expect((await t.api('DELETE', `/api/v1/integrations/${second.body.id}`)).status).toBe(200);
    });

    it('deletes', async () => {
      expect((await t.api('DELETE', `/api/v1/integrations/${id}`)).body).toEqual({ id });
      expect((await t.api('GET', `/api/v1/integrations/${id}`)).status).toBe(404);
      expect((await t.api('DELETE', `/api/v1/integrations/${id}`)).status).toBe(404);
    });
  });

  it('reports what a limited connector user lacks, with the SQL to fix it, and recovers', async () => {
    const res = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `limited ${suffix}`, secret: { store: 'builtin', username: LIMITED_ROLE, password: PASSWORD } }),
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('ERROR');
    const checks = res.body.lastTest.checks as Array<{ id: string; ok: boolean; fix?: string }>;
    const createRoles = checks.find((c) => c.id === 'create_roles')!;
    expect(createRoles.ok).toBe(false);
    expect(createRoles.fix).toBe(`ALTER ROLE "${LIMITED_ROLE}" CREATEROLE;`);
    const terminate = checks.find((c) => c.id === 'terminate_backends')!;
    expect(terminate.fix).toBe(`GRANT "pg_signal_backend" TO "${LIMITED_ROLE}";`);
    expect(res.body.statusReason).toMatch(/create_roles/);

    await shared.query(createRoles.fix!);
    await shared.query(terminate.fix!);
    const again = await t.api('POST', `/api/v1/integrations/${res.body.id}/test`);
    expect(again.body.integration.status).toBe('ACTIVE');
    expect(again.body.report.checks.find((c: { id: string }) => c.id === 'create_roles').ok).toBe(true);
  });

  it('sets ERROR with the reason when the database cannot be reached', async () => {
    const res = await t.api('POST', '/api/v1/integrations', { body: body({ name: `unreachable ${suffix}`, config: { ...TARGET, port: 1 } }) });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('ERROR');
    expect(res.body.lastTest.connected).toBe(false);
    expect(res.body.statusReason).toMatch(/connect/);
  });

  it('resolves env and file secrets on the connector host, fresh each time', async () => {
    const env = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `env ${suffix}`, secret: { store: 'env', usernameVar: 'E2E_PG_USER', passwordVar: 'E2E_PG_PASSWORD' } }),
    });
    expect(env.body).toMatchObject({ status: 'ACTIVE', secret: { store: 'env', usernameVar: 'E2E_PG_USER', passwordVar: 'E2E_PG_PASSWORD' } });

    const missingVar = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `env missing ${suffix}`, secret: { store: 'env', usernameVar: 'E2E_NOT_SET', passwordVar: 'E2E_PG_PASSWORD' } }),
    });
    expect(missingVar.body.status).toBe('ERROR');
    expect(missingVar.body.statusReason).toMatch(/E2E_NOT_SET/);

    const path = join(secretDir, 'pg.json');
    const file = await t.api('POST', '/api/v1/integrations', { body: body({ name: `file ${suffix}`, secret: { store: 'file', path } }) });
    expect(file.body.status).toBe('ERROR');
    expect(file.body.statusReason).toContain(path);

    writeFileSync(path, JSON.stringify({ username: 'postgres', password: PASSWORD }));
    chmodSync(path, 0o600);
    const retest = await t.api('POST', `/api/v1/integrations/${file.body.id}/test`);
    expect(retest.body.integration.status).toBe('ACTIVE');
  });

  it("refuses a secret by reference pointing at Latchkey's own variables or key files: 400 naming the field and rule", async () => {
    const rule = expect.stringMatching(/^must not name a variable Latchkey itself uses/);
    const token = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `admin token ${suffix}`, secret: { store: 'env', usernameVar: 'E2E_PG_USER', passwordVar: 'LATCHKEY_ADMIN_TOKEN' } }),
    });
    expect(token.status).toBe(400);
    expect(token.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ field: 'secret.passwordVar', rule }] } });
    const key = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `master key ${suffix}`, secret: { store: 'env', usernameVar: 'LATCHKEY_MASTER_KEY', passwordVar: 'LATCHKEY_DATABASE_URL' } }),
    });
    expect(key.body.details.issues).toEqual([
      { field: 'secret.usernameVar', rule },
      { field: 'secret.passwordVar', rule },
    ]);
    const file = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `key file ${suffix}`, secret: { store: 'file', path: '/srv/latchkey/.latchkey/master.key' } }),
    });
    expect(file.status).toBe(400);
    expect(file.body.details.issues).toEqual([{ field: 'secret.path', rule: expect.stringMatching(/Latchkey's own key files/) }]);
    expect((await t.api('GET', '/api/v1/integrations?pageSize=500')).body.items.map((i: { name: string }) => i.name)).not.toEqual(
      expect.arrayContaining([`admin token ${suffix}`]),
    );
  });

  it('starts each service with only the Latchkey variables its schema reads: the admin token reaches access alone', () => {
    // This stack's processes, told apart from other suites' by their private NATS URL.
    const environments = new Map<string, Map<string, string>>();
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmdline: string;
      let environ: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        continue;
      }
      const service = /dist\/apps\/([a-z-]+)\/src\/main\.js/.exec(cmdline)?.[1];
      const env = new Map(
        environ
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      if (service && env.get('NATS_URL') === t.natsUrl) environments.set(service, env);
    }
    expect([...environments.keys()].sort()).toEqual([...ServiceName.options].sort());
    for (const [service, env] of environments) {
      expect({ service, adminToken: env.has('LATCHKEY_ADMIN_TOKEN') }).toEqual({ service, adminToken: service === 'access' });
      expect({ service, masterKey: env.has('LATCHKEY_MASTER_KEY') }).toEqual({ service, masterKey: service !== 'api-gateway' });
      // What env secrets name passes through to the connectors.
      expect({ service, secretVar: env.get('E2E_PG_USER') }).toEqual({ service, secretVar: 'postgres' });
    }
    expect(environments.get('rotation')!.has('LATCHKEY_DATABASE_URL')).toBe(false);
  });

  it("keeps a failing connection's username and password out of status reasons, answers and logs", async () => {
    const username = `lk_e2e_no_such_login_${suffix}`;
    const password = `pw-never-shown-${suffix}`;
    const res = await t.api('POST', '/api/v1/integrations', { body: body({ name: `bad login ${suffix}`, secret: { store: 'builtin', username, password } }) });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('ERROR');
    // The server said `role "<username>" does not exist`: the reason keeps the words, not the name.
    expect(res.body.statusReason).toMatch(/role "\[redacted\]" does not exist/);
    await t.api('POST', `/api/v1/integrations/${res.body.id}/refresh`);
    const { token: userToken } = await createUser(t);
    const asUser = await t.api('GET', `/api/v1/integrations/${res.body.id}`, { token: userToken });
    expect(asUser.status).toBe(200);
    // Discovery tried too (created, then refreshed); its failure lands in the logs and the reason.
    for (let i = 0; i < 50 && !t.stack.output('discovery').includes(res.body.id); i += 1) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    const seen = [t.stack.output(), ...t.responses, JSON.stringify(await t.control('SELECT status_reason, last_test FROM catalog.integrations'))].join('\n');
    expect(seen).toContain(res.body.id);
    expect(seen).not.toContain(username);
    expect(seen).not.toContain(password);
  });

  it('shows people without the admin role no connector login, preflight SQL, secret source or status internals; admins everything', async () => {
    const limited = await t.api('POST', '/api/v1/integrations', {
      body: body({ name: `hidden ${suffix}`, secret: { store: 'builtin', username: HIDDEN_ROLE, password: PASSWORD } }),
    });
    const fromEnv = await t.api('POST', '/api/v1/integrations', {
      body: body({
        name: `env view ${suffix}`,
        secret: { store: 'env', usernameVar: 'E2E_PG_USER', passwordVar: 'E2E_PG_PASSWORD' },
        customAccessDetails: 'Ask #dba.',
      }),
    });
    expect(limited.body.status).toBe('ERROR');
    const { token: userToken } = await createUser(t, { role: 'user' });

    const adminList = await t.api('GET', '/api/v1/integrations?pageSize=500');
    const forAdmin = adminList.body.items.find((i: { id: string }) => i.id === limited.body.id);
    expect(forAdmin).toMatchObject({
      statusReason: expect.any(String),
      lastTest: { user: HIDDEN_ROLE },
      secret: { store: 'builtin' },
      rotation: expect.any(Object),
      connectorId: 'local',
    });
    expect(forAdmin.lastTest.checks.map((c: { fix?: string }) => c.fix)).toContain(`ALTER ROLE "${HIDDEN_ROLE}" CREATEROLE;`);
    expect(adminList.text).toContain('E2E_PG_PASSWORD');

    const userList = await t.api('GET', '/api/v1/integrations?pageSize=500', { token: userToken });
    const userOne = await t.api('GET', `/api/v1/integrations/${limited.body.id}`, { token: userToken });
    const userEnv = await t.api('GET', `/api/v1/integrations/${fromEnv.body.id}`, { token: userToken });
    for (const answer of [userList, userOne, userEnv]) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(HIDDEN_ROLE);
      expect(answer.text).not.toMatch(/GRANT|ALTER ROLE|E2E_PG_|lastTest|statusReason|"secret"|rotation|connectorId/);
    }
    expect(Object.keys(userOne.body).sort()).toEqual([
      'config',
      'connectedResourceTypes',
      'createdAt',
      'customAccessDetails',
      'id',
      'integrationOwners',
      'name',
      'resourceOwnerMappings',
      'status',
      'type',
      'updatedAt',
    ]);
    expect(userOne.body).toMatchObject({ id: limited.body.id, name: `hidden ${suffix}`, status: 'ERROR', config: TARGET });
    expect(userEnv.body.customAccessDetails).toBe('Ask #dba.');
    expect(userList.body.items.map((i: { id: string }) => i.id)).toEqual(adminList.body.items.map((i: { id: string }) => i.id));
  });

  it('serves an OpenAPI document listing every route', async () => {
    const res = await t.api('GET', '/api/docs', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/api/v1/catalog',
        '/api/v1/connectors',
        '/api/v1/integrations',
        '/api/v1/integrations/{id}',
        '/api/v1/integrations/{id}/test',
      ]),
    );
  });

  it('never stores, logs or returns a password in plain text', async () => {
    const stored = await t.control<{ secret: string }>('SELECT secret::text AS secret FROM catalog.integrations');
    expect(stored.length).toBeGreaterThan(0);
    const b64 = Buffer.from(PASSWORD).toString('base64');
    for (const row of stored) {
      expect(row.secret).not.toContain(PASSWORD);
      expect(row.secret).not.toContain(b64);
    }
    const builtin = stored.filter((r) => r.secret.includes('"builtin"'));
    expect(builtin.length).toBeGreaterThan(0);
    for (const row of builtin) expect(JSON.parse(row.secret).envelope.alg).toBe('AES-256-GCM');

    const dump = await t.control<{ text: string }>("SELECT string_agg(t::text, '\n') AS text FROM catalog.integrations t");
    expect(dump[0].text).not.toContain(PASSWORD);
    expect(t.stack.lines.length).toBeGreaterThan(20);
    expect(t.stack.output()).not.toContain(PASSWORD);
    expect(t.stack.output()).not.toContain(t.adminToken);
    expect(t.responses.join('\n')).not.toContain(PASSWORD);
  });
});
