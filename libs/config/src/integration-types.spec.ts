import { ENVIRONMENT_SCHEMAS } from './env';
import { INTEGRATION_TYPES, isHostname, secretSourceIssues, validateIntegrationInput } from './integration-types';
import { isLatchkeyVariable, LATCHKEY_FILE_RULE, LATCHKEY_VARIABLE_RULE, latchkeyKeyFiles } from './reserved';

const valid = {
  name: 'Prod billing_db-1',
  type: 'postgresql',
  connectedResourceTypes: ['postgresql-table'],
  config: { hostname: 'db.internal.example.com' },
  secret: { store: 'builtin', username: 'latchkey', password: 'pw' },
};

const issues = (body: unknown, mode: 'create' | 'update' = 'create') => {
  const r = mode === 'create' ? validateIntegrationInput(body, 'create') : validateIntegrationInput(body, 'update');
  return r.ok ? [] : r.issues;
};
const fields = (body: unknown) => issues(body).map((i) => i.field);

describe('validateIntegrationInput', () => {
  it('accepts the minimal body and applies the seed defaults', () => {
    const r = validateIntegrationInput(valid, 'create');
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.config).toEqual({ hostname: 'db.internal.example.com', port: 5432, dbname: 'postgres', sslmode: 'prefer' });
      expect(r.value.connectorId).toBe('local');
    }
  });

  it.each([
    ['a', true],
    ['A b-c_d 9', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    [' leading', false],
    ['trailing ', false],
    ['semi;colon', false],
    ["quo'te", false],
    ['ünïcode', false],
  ])('name %j valid=%s', (name, ok) => {
    expect(fields({ ...valid, name }).includes('name')).toBe(!ok);
  });

  it.each([
    ['db.example.com', true],
    ['localhost', true],
    ['10.0.0.1', true],
    ['::1', true],
    ['2001:db8::5', true],
    ['my_host', true],
    ['-bad.example', false],
    ['has space', false],
    ['a..b', false],
    [`${'a'.repeat(64)}.com`, false],
  ])('hostname %j valid=%s', (hostname, ok) => {
    expect(isHostname(hostname)).toBe(ok);
  });

  it('checks port range, sslmode, dbname bytes and the CA rule', () => {
    expect(fields({ ...valid, config: { hostname: 'h', port: 0 } })).toEqual(['config.port']);
    expect(fields({ ...valid, config: { hostname: 'h', port: 65535 } })).toEqual([]);
    expect(fields({ ...valid, config: { hostname: 'h', port: 1.5 } })).toEqual(['config.port']);
    expect(fields({ ...valid, config: { hostname: 'h', sslmode: 'on' } })).toEqual(['config.sslmode']);
    for (const sslmode of ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']) {
      expect(fields({ ...valid, config: { hostname: 'h', sslmode } })).toEqual([]);
    }
    expect(fields({ ...valid, config: { hostname: 'h', dbname: 'é'.repeat(31) + 'x' } })).toEqual([]); // 63 bytes
    expect(fields({ ...valid, config: { hostname: 'h', dbname: 'é'.repeat(32) } })).toEqual(['config.dbname']); // 64 bytes
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(fields({ ...valid, config: { hostname: 'h', sslmode: 'verify-full', sslRootCert: pem } })).toEqual([]);
    expect(issues({ ...valid, config: { hostname: 'h', sslmode: 'prefer', sslRootCert: pem } })).toEqual([
      { field: 'config.sslRootCert', rule: 'is used only with sslmode require, verify-ca or verify-full' },
    ]);
    expect(fields({ ...valid, config: { hostname: 'h', sslmode: 'verify-ca', sslRootCert: 'not a pem' } })).toEqual(['config.sslRootCert']);
    expect(fields({ ...valid, config: { hostname: 'h', extra: 1 } })).toEqual(['config.extra']);
  });

  it('checks the optional settings of the seed page', () => {
    expect(fields({ ...valid, credentialRotationDays: 1 })).toEqual([]);
    expect(fields({ ...valid, credentialRotationDays: 3650 })).toEqual([]);
    expect(fields({ ...valid, credentialRotationDays: 3651 })).toEqual(['credentialRotationDays']);
    expect(fields({ ...valid, customAccessDetails: 'x'.repeat(400) })).toEqual([]);
    expect(issues({ ...valid, customAccessDetails: 'x'.repeat(401) })).toEqual([{ field: 'customAccessDetails', rule: 'must be at most 400 characters' }]);
    expect(fields({ ...valid, connectedResourceTypes: [] })).toEqual(['connectedResourceTypes']);
    expect(fields({ ...valid, connectedResourceTypes: ['postgresql-table', 'postgresql-table'] })).toEqual(['connectedResourceTypes']);
    expect(fields({ ...valid, connectedResourceTypes: ['mysql-table'] })).toEqual(['connectedResourceTypes.0']);
    expect(fields({ ...valid, integrationOwners: [{ attribute: 'team', values: ['dba'] }] })).toEqual([]);
    expect(fields({ ...valid, integrationOwners: [{ attribute: 'team', values: [] }] })).toEqual(['integrationOwners.0.values']);
  });

  it("refuses a resource owner without an integration owner, in the seed's words", () => {
    const mapping = { resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }] };
    expect(issues({ ...valid, ...mapping })).toEqual([
      { field: 'integrationOwners', rule: 'When Resource Owner is defined, an Integration Owner must be defined.' },
    ]);
    expect(fields({ ...valid, ...mapping, integrationOwners: [{ attribute: 'user', values: ['a@b.c'] }] })).toEqual([]);
  });

  it('checks each secret store', () => {
    expect(fields({ ...valid, secret: { store: 'env', usernameVar: 'PGUSER', passwordVar: 'PGPASSWORD' } })).toEqual([]);
    expect(fields({ ...valid, secret: { store: 'env', usernameVar: '1BAD', passwordVar: 'PGPASSWORD' } })).toEqual(['secret.usernameVar']);
    expect(fields({ ...valid, secret: { store: 'file', path: '/run/secrets/pg.json' } })).toEqual([]);
    expect(fields({ ...valid, secret: { store: 'file', path: 'relative.json' } })).toEqual(['secret.path']);
    expect(fields({ ...valid, secret: { store: 'env', usernameVar: 'E2E_PG_USER', passwordVar: 'E2E_PG_PASSWORD' } })).toEqual([]);
    expect(fields({ ...valid, secret: { store: 'builtin', username: 'u' } })).toEqual(['secret.password']);
    expect(fields({ ...valid, secret: { store: 'kms' } })).toEqual(['secret.store']);
    expect(fields({ ...valid, secret: undefined })).toEqual(['secret']);
    expect(issues({ ...valid, secret: undefined }, 'update')).toEqual([]);
  });

  it.each([
    ['LATCHKEY_ADMIN_TOKEN'],
    ['LATCHKEY_MASTER_KEY'],
    ['LATCHKEY_DATABASE_URL'],
    ['NATS_URL'],
    ['REDIS_URL'],
    ['SMTP_URL'],
    ['OIDC_CLIENT_SECRET'],
    ['PORT'],
    ['latchkey_admin_token'],
  ])("refuses an env secret naming Latchkey's own variable %s, naming the field and the rule", (name) => {
    expect(issues({ ...valid, secret: { store: 'env', usernameVar: 'PGUSER', passwordVar: name } })).toEqual([
      { field: 'secret.passwordVar', rule: LATCHKEY_VARIABLE_RULE },
    ]);
    expect(fields({ ...valid, secret: { store: 'env', usernameVar: name, passwordVar: name } })).toEqual(['secret.usernameVar', 'secret.passwordVar']);
  });

  it("counts every variable of every service schema as Latchkey's own, so a new one joins the list", () => {
    for (const schema of Object.values(ENVIRONMENT_SCHEMAS)) for (const name of Object.keys(schema.shape)) expect(isLatchkeyVariable(name)).toBe(true);
    expect(isLatchkeyVariable('PGPASSWORD_BILLING')).toBe(false);
  });

  it.each([['/app/.latchkey/master.key'], ['/home/me/latchkey/.latchkey/admin-token'], ['/run/secrets/../../app/.latchkey/x.json']])(
    "refuses the secret file %s, in Latchkey's own folder",
    (path) => {
      expect(issues({ ...valid, secret: { store: 'file', path } })).toEqual([{ field: 'secret.path', rule: LATCHKEY_FILE_RULE }]);
    },
  );

  it('refuses the master key file named by the environment', () => {
    expect(
      secretSourceIssues(
        { store: 'file', path: '/etc/latchkey/../latchkey/master.key' },
        latchkeyKeyFiles({ LATCHKEY_MASTER_KEY_FILE: '/etc/latchkey/master.key' }),
      ),
    ).toEqual([{ field: 'secret.path', rule: LATCHKEY_FILE_RULE }]);
    expect(
      secretSourceIssues({ store: 'file', path: '/etc/latchkey/pg.json' }, latchkeyKeyFiles({ LATCHKEY_MASTER_KEY_FILE: '/etc/latchkey/master.key' })),
    ).toEqual([]);
  });

  it('reports every problem at once, never a single one', () => {
    const all = fields({ name: '', type: 'postgresql', connectedResourceTypes: [], config: { port: 'x' }, secret: {}, customAccessDetails: 'x'.repeat(500) });
    expect(all).toEqual(expect.arrayContaining(['name', 'connectedResourceTypes', 'config.hostname', 'config.port', 'secret.store', 'customAccessDetails']));
  });

  it('names an unknown type and refuses a non-object body', () => {
    expect(issues({ ...valid, type: 'oracle' })).toEqual([{ field: 'type', rule: 'must be one of: postgresql' }]);
    expect(issues([1, 2])).toEqual([{ field: '(body)', rule: 'must be a JSON object' }]);
    expect(issues(null)).toEqual([{ field: '(body)', rule: 'must be a JSON object' }]);
  });

  it('describes the catalog entry with JSON Schema defaults', () => {
    const d = INTEGRATION_TYPES.postgresql.description;
    expect(d.configSchema).toMatchObject({
      type: 'object',
      required: ['hostname'],
      properties: { port: { default: 5432 }, dbname: { default: 'postgres' }, sslmode: { default: 'prefer' } },
    });
  });
});
