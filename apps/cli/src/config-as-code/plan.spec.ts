import type { AccessFlow, Integration, IntegrationTypeDescription } from '@latchkey/contracts';
import { parseConfigFile } from './config-file';
import { computePlan, exportFile, type ServerState } from './plan';

const types = [{ type: 'postgresql', configDefaults: { port: 5432, dbname: 'postgres', sslmode: 'prefer' } }] as unknown as IntegrationTypeDescription[];
const integration = (name: string, managedBy: string | null, config: Record<string, unknown> = { hostname: 'db', port: 5432, dbname: 'postgres', sslmode: 'prefer' }) =>
  ({ id: `id-${name}`, name, type: 'postgresql', connectorId: 'local', connectedResourceTypes: ['postgresql-table'], config, secret: { store: 'env', usernameVar: 'U', passwordVar: 'P' }, credentialRotationDays: null, customAccessDetails: null, integrationOwners: [], resourceOwnerMappings: [], managedBy }) as unknown as Integration;
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
  const server = (flows: AccessFlow[], integrations = [integration('shop', 'latchkey-cli')]): ServerState => ({ integrations, flows, types });

  it('has no change when the server holds the file after its defaults (the config defaults, the flow schema defaults)', () => {
    const { plan, issues } = computePlan(file(sales(60)), server([flow('sales', 'latchkey-cli')]), { prune: false });
    expect(issues).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it('names each changed field with the server value and the file value, in a stable order', () => {
    const { plan } = computePlan(file(sales(90)), server([flow('sales', 'latchkey-cli')], [integration('shop', 'latchkey-cli', { hostname: 'other', port: 5432, dbname: 'postgres', sslmode: 'prefer' })]), { prune: false });
    expect(plan.changes.map((c) => [c.action, c.kind, c.name, c.fields])).toEqual([
      ['update', 'integration', 'shop', { config: { before: { hostname: 'other', port: 5432, dbname: 'postgres', sslmode: 'prefer' }, after: { hostname: 'db', port: 5432, dbname: 'postgres', sslmode: 'prefer' } } }],
      ['update', 'access flow', 'sales', { maxDurationMinutes: { before: 60, after: 90 } }],
    ]);
  });

  it('deletes only what this file manages, and only with --prune', () => {
    const flows = [flow('sales', 'latchkey-cli'), flow('old', 'latchkey-cli'), flow('console', null), flow('theirs', 'other-file')];
    expect(computePlan(file(sales(60)), server(flows), { prune: false }).plan).toMatchObject({ changes: [], notInFile: [{ kind: 'access flow', name: 'old' }] });
    expect(computePlan(file(sales(60)), server(flows), { prune: true }).plan.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['delete old']);
  });

  it("refuses to take over another file's object, at its name's line", () => {
    const { issues } = computePlan(file(sales(60)), server([flow('sales', 'other-file')]), { prune: false });
    expect(issues).toEqual([expect.objectContaining({ line: 9, column: 5, field: 'accessFlows.0.name', rule: expect.stringContaining('managed by another file ("other-file")') })]);
  });

  it('exports what plans empty, leaving out built-in secrets', () => {
    const builtin = { ...integration('legacy', null), secret: { store: 'builtin' } } as unknown as Integration;
    const state = server([flow('sales', null)], [integration('shop', null), builtin]);
    const { file: exported, skipped } = exportFile(state, 'latchkey-cli');
    expect(skipped).toEqual(['legacy']);
    const reread = parseConfigFile('e.json', JSON.stringify(exported));
    expect(computePlan(reread, state, { prune: true }).plan.changes).toEqual([]);
  });
});
