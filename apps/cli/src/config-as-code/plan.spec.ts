import type { AccessFlow, Group, Integration, IntegrationTypeDescription, User, Webhook } from '@latchkey/contracts';
import { parseConfigFile, sortIssues } from './config-file';
import { computePlan, exportFile, type ServerState } from './plan';

const types = [{ type: 'postgresql', configDefaults: { port: 5432, dbname: 'postgres', sslmode: 'prefer' } }] as unknown as IntegrationTypeDescription[];
const integration = (
  name: string,
  managedBy: string | null,
  config: Record<string, unknown> = { hostname: 'db', port: 5432, dbname: 'postgres', sslmode: 'prefer' },
) =>
  ({
    id: `id-${name}`,
    name,
    type: 'postgresql',
    connectorId: 'local',
    connectedResourceTypes: ['postgresql-table'],
    config,
    secret: { store: 'env', usernameVar: 'U', passwordVar: 'P' },
    credentialRotationDays: null,
    customAccessDetails: null,
    integrationOwners: [],
    resourceOwnerMappings: [],
    managedBy,
  }) as unknown as Integration;
const flow = (name: string, managedBy: string | null, maxDurationMinutes = 60) =>
  ({
    id: `flow-${name}`,
    name,
    active: true,
    requestors: { operator: 'OR', conditions: [{ type: 'group', match: 'is', values: ['eng'] }] },
    targets: [{ integrationId: 'id-shop', resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
    approvers: null,
    maxDurationMinutes,
    timeframe: null,
    settings: { justificationRequired: true, approverReasonRequired: false, maxExtensions: 0, requesterCannotApprove: true },
    managedBy,
  }) as unknown as AccessFlow;

const file = (body: string) =>
  parseConfigFile(
    'f.yaml',
    `apiVersion: latchkey/v1
integrations:
  - name: shop
    type: postgresql
    connectedResourceTypes: [postgresql-table]
    config: { hostname: db }
    secret: { store: env, usernameVar: U, passwordVar: P }
${body}`,
  );
const sales = (minutes: number) => `accessFlows:
  - name: sales
    requestors: { conditions: [{ type: group, match: is, values: [eng] }] }
    targets: [{ integration: shop, resourceType: postgresql-table, permissions: [READ_ONLY] }]
    approvers: null
    maxDurationMinutes: ${minutes}
`;

describe('the plan', () => {
  const server = (flows: AccessFlow[], integrations = [integration('shop', 'latchkey-cli')]): ServerState => ({
    integrations,
    flows,
    types,
    groups: [],
    users: [],
    webhooks: [],
  });

  it('has no change when the server holds the file after its defaults (the config defaults, the flow schema defaults)', () => {
    const { plan, issues } = computePlan(file(sales(60)), server([flow('sales', 'latchkey-cli')]), { prune: false });
    expect(issues).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it('names each changed field with the server value and the file value, in a stable order', () => {
    const { plan } = computePlan(
      file(sales(90)),
      server([flow('sales', 'latchkey-cli')], [integration('shop', 'latchkey-cli', { hostname: 'other', port: 5432, dbname: 'postgres', sslmode: 'prefer' })]),
      { prune: false },
    );
    expect(plan.changes.map((c) => [c.action, c.kind, c.name, c.fields])).toEqual([
      [
        'update',
        'integration',
        'shop',
        {
          config: {
            before: { hostname: 'other', port: 5432, dbname: 'postgres', sslmode: 'prefer' },
            after: { hostname: 'db', port: 5432, dbname: 'postgres', sslmode: 'prefer' },
          },
        },
      ],
      ['update', 'access flow', 'sales', { maxDurationMinutes: { before: 60, after: 90 } }],
    ]);
  });

  it('deletes only what this file manages, and only with --prune', () => {
    const flows = [flow('sales', 'latchkey-cli'), flow('old', 'latchkey-cli'), flow('console', null), flow('theirs', 'other-file')];
    expect(computePlan(file(sales(60)), server(flows), { prune: false }).plan).toMatchObject({
      changes: [],
      notInFile: [{ kind: 'access flow', name: 'old' }],
    });
    expect(computePlan(file(sales(60)), server(flows), { prune: true }).plan.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['delete old']);
  });

  it("refuses to take over another file's object, at its name's line", () => {
    const { issues } = computePlan(file(sales(60)), server([flow('sales', 'other-file')]), { prune: false });
    expect(issues).toEqual([
      expect.objectContaining({ line: 9, column: 5, field: 'accessFlows.0.name', rule: expect.stringContaining('managed by another file ("other-file")') }),
    ]);
  });

  it('exports what plans empty, leaving out built-in secrets', () => {
    const builtin = { ...integration('legacy', null), secret: { store: 'builtin' } } as unknown as Integration;
    const state = server([flow('sales', null)], [integration('shop', null), builtin]);
    const { file: exported, skipped } = exportFile(state, 'latchkey-cli');
    expect(skipped).toEqual(['legacy']);
    const reread = parseConfigFile('e.json', JSON.stringify(exported));
    expect(computePlan(reread, state, { prune: true }).plan.changes).toEqual([]);
  });

  describe('groups, users and webhook endpoints', () => {
    const group = (name: string, managedBy: string | null, description: string | null = null) =>
      ({ id: `g-${name}`, name, description, members: 0, managedBy, createdAt: '' }) as Group;
    const user = (email: string, managedBy: string | null, extra: Partial<User> = {}) =>
      ({
        id: `u-${email}`,
        email,
        name: email.split('@')[0],
        groups: [],
        attributes: {},
        role: 'user',
        active: true,
        managedBy,
        createdAt: '',
        updatedAt: '',
        ...extra,
      }) as User;
    const webhook = (name: string, managedBy: string | null, extra: Partial<Webhook> = {}) =>
      ({
        id: `w-${name}`,
        name,
        url: 'https://hooks.example.com/in',
        format: 'standard',
        events: ['access_request.created'],
        filters: {},
        active: true,
        disabledReason: null,
        previousSecretExpiresAt: null,
        managedBy,
        createdAt: '',
        updatedAt: '',
        ...extra,
      }) as Webhook;
    const state = (parts: Partial<ServerState>): ServerState => ({
      integrations: [integration('shop', 'latchkey-cli')],
      flows: [flow('sales', 'latchkey-cli')],
      types,
      groups: [],
      users: [],
      webhooks: [],
      ...parts,
    });
    const identities = (body: string) => file(`${sales(60)}${body}`);

    it('compares after the defaults and the server spelling of group names: nothing to do when they agree', () => {
      const server = state({
        groups: [group('DBA', 'latchkey-cli', 'Database admins')],
        users: [user('ana@example.com', 'latchkey-cli', { name: 'Ana', groups: ['DBA', 'eng'] })],
        webhooks: [
          webhook('ops', 'latchkey-cli', {
            url: 'https://***@hooks.example.com/in',
            events: ['access_request.created', 'access_request.approved'],
            filters: { integrationIds: ['id-shop'], flowIds: ['flow-sales'] },
          }),
        ],
      });
      const loaded = identities(`groups:
  - { name: dba, description: Database admins }
users:
  - { email: Ana@Example.com, name: Ana, groups: [eng, dba] }
webhooks:
  - name: ops
    url: { env: OPS_URL }
    events: [access_request.approved, access_request.created]
    filters: { integrations: [shop], flows: [sales] }
`);
      const { plan, issues } = computePlan(loaded, server, { prune: true, env: { OPS_URL: 'https://u:secret@hooks.example.com/in' } });
      expect(issues).toEqual([]);
      expect(plan.changes).toEqual([]);
    });

    it('plans each changed field, the user being deactivated, and prunes only what this file manages', () => {
      const server = state({
        groups: [group('dba', 'latchkey-cli'), group('old', 'latchkey-cli'), group('console', null)],
        users: [user('ana@example.com', 'latchkey-cli'), user('gone@example.com', 'latchkey-cli'), user('admin@example.com', null, { role: 'admin' })],
        webhooks: [webhook('ops', 'latchkey-cli'), webhook('theirs', null)],
      });
      const loaded = identities(`groups: [{ name: dba, description: Database admins }]
users: [{ email: ana@example.com, name: ana, active: false, groups: [dba] }]
webhooks: [{ name: ops, url: "https://hooks.example.com/in", events: ["*"], active: false }]
`);
      const { plan } = computePlan(loaded, server, { prune: true, env: {} });
      expect(plan.changes.map((c) => [c.action, c.kind, c.name, Object.keys(c.fields)])).toEqual([
        ['update', 'group', 'dba', ['description']],
        ['delete', 'group', 'old', ['name', 'description']],
        ['update', 'user', 'ana@example.com', ['active', 'groups']],
        ['delete', 'user', 'gone@example.com', ['email', 'name', 'role', 'active', 'groups', 'attributes']],
        ['update', 'webhook', 'ops', ['events', 'active']],
      ]);
    });

    it('names the line of an unset URL variable, of a filter naming nothing, and of an inline URL holding a secret', () => {
      const loaded = identities(`webhooks:
  - name: ops
    url: { env: OPS_URL }
    events: ["*"]
    filters: { flows: [nowhere] }
`);
      expect(sortIssues(computePlan(loaded, state({}), { prune: false, env: {} }).issues)).toEqual([
        expect.objectContaining({
          line: 16,
          column: 12,
          field: 'webhooks.0.url.env',
          rule: expect.stringContaining('names the variable OPS_URL, which is not set'),
        }),
        expect.objectContaining({ line: 18, column: 24, field: 'webhooks.0.filters.flows.0', rule: 'names no access flow in this file or on the server' }),
      ]);
      expect(() => identities(`webhooks: [{ name: ops, url: "https://u:p@hooks.example.com/x", events: ["*"] }]\n`)).toThrow(
        /webhooks\.0\.url: holds a secret/,
      );
      expect(() => identities(`users: [{ email: ana@example.com, name: Ana, password: x }]\n`)).toThrow(/users\.0\.password: is not a known field/);
    });

    it('exports what plans empty; a masked URL is read from a variable', () => {
      const server = state({
        groups: [group('dba', null, 'Database admins'), group('eng', null)],
        users: [user('ana@example.com', null, { groups: ['dba'], attributes: { team: 'data' } }), user('bob@example.com', null, { active: false })],
        webhooks: [
          webhook('slack', null, { url: 'https://hooks.slack.com/services/***', format: 'slack', filters: { integrationIds: ['id-shop'] } }),
          webhook('plain', null),
        ],
      });
      const { file: exported, variables } = exportFile(server, 'latchkey-cli');
      expect(variables).toEqual([{ webhook: 'slack', variable: 'LATCHKEY_WEBHOOK_URL_SLACK' }]);
      const reread = parseConfigFile('e.json', JSON.stringify(exported));
      const { plan, issues } = computePlan(reread, server, {
        prune: true,
        env: { LATCHKEY_WEBHOOK_URL_SLACK: 'https://hooks.slack.com/services/T0/B0/SECRET' },
      });
      expect(issues).toEqual([]);
      expect(plan.changes).toEqual([]);
    });
  });
});
