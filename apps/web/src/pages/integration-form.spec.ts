import { RESOURCE_OWNER_RULE } from '@latchkey/contracts';
import type { Connector } from '@latchkey/contracts';
import { emptyIntegration, integrationErrors, STEPS, toBody } from './integration-form';
import type { IntegrationValues } from './integration-form';

const connectors: Connector[] = [
  {
    id: 'local',
    version: '1.3.0',
    status: 'CONNECTED',
    services: ['discovery', 'provisioning', 'rotation'],
    lastSeenAt: '2026-12-01T10:00:00Z',
    firstSeenAt: '2026-12-01T09:00:00Z',
  },
  { id: 'old', version: '1.2.9', status: 'CONNECTED', services: [], lastSeenAt: '2026-12-01T10:00:00Z', firstSeenAt: '2026-12-01T09:00:00Z' },
  { id: 'gone', version: '1.4.0', status: 'DISCONNECTED', services: [], lastSeenAt: '2026-11-30T10:00:00Z', firstSeenAt: '2026-11-01T09:00:00Z' },
];

const filled = (): IntegrationValues => {
  const v = emptyIntegration({ port: 5432, dbname: 'postgres', sslmode: 'prefer' });
  return {
    ...v,
    connectorId: 'local',
    name: 'Shop',
    config: { ...v.config, hostname: 'db.example.com' },
    secret: { ...v.secret, username: 'lk', password: 'pw' },
  };
};
const errors = (v: IntegrationValues, mode: 'create' | 'update' = 'create') => integrationErrors(v, 'postgresql', mode, connectors, '1.3.0');

describe('the Connect Integration wizard', () => {
  it("starts from the seed's defaults and makes the API's body", () => {
    const v = filled();
    expect(v.config).toMatchObject({ port: '5432', dbname: 'postgres', sslmode: 'prefer' });
    expect(errors(v)).toEqual({});
    expect(toBody(v, 'postgresql')).toEqual({
      name: 'Shop',
      type: 'postgresql',
      connectorId: 'local',
      connectedResourceTypes: ['postgresql-database', 'postgresql-schema', 'postgresql-table'],
      config: { hostname: 'db.example.com', port: 5432, dbname: 'postgres', sslmode: 'prefer' },
      secret: { store: 'builtin', username: 'lk', password: 'pw' },
      credentialRotationDays: null,
      customAccessDetails: null,
      integrationOwners: [],
      resourceOwnerMappings: [],
    });
  });

  it("marks each field with the API's rule", () => {
    const v = filled();
    expect(errors({ ...v, name: 'bad;name' }).name).toMatch(/^must be 1-64 characters/);
    expect(errors({ ...v, config: { ...v.config, port: '70000' } })['config.port']).toBe('must be between 1 and 65535');
    expect(errors({ ...v, config: { ...v.config, port: 'x' } })['config.port']).toBe('must be a number');
    expect(errors({ ...v, config: { ...v.config, hostname: 'has space' } })['config.hostname']).toBe('must be a DNS name or an IP address');
    expect(errors({ ...v, config: { ...v.config, hostname: '::1' } })).toEqual({});
    expect(errors({ ...v, config: { ...v.config, dbname: 'é'.repeat(32) } })['config.dbname']).toMatch(/63 bytes/);
    expect(errors({ ...v, customAccessDetails: 'x'.repeat(401) }).customAccessDetails).toBe('must be at most 400 characters');
    expect(errors({ ...v, connectedResourceTypes: [] }).connectedResourceTypes).toBe('must list at least one resource type');
    expect(errors({ ...v, secret: { ...v.secret, store: 'env', usernameVar: '1X' } })['secret.usernameVar']).toMatch(/environment variable name/);
  });

  it("refuses a resource owner without an integration owner, in the seed's sentence", () => {
    const v = { ...filled(), resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }] };
    expect(errors(v).integrationOwners).toBe(RESOURCE_OWNER_RULE);
    expect(errors({ ...v, integrationOwners: [{ attribute: 'group', values: 'dba, ops' }] })).toEqual({});
    expect(toBody({ ...v, integrationOwners: [{ attribute: 'group', values: 'dba, ops' }] }, 'postgresql').integrationOwners).toEqual([
      { attribute: 'group', values: ['dba', 'ops'] },
    ]);
  });

  it("refuses an old or disconnected connector with the catalog's reason", () => {
    expect(errors({ ...filled(), connectorId: 'old' }).connectorId).toBe('must name a connector of version 1.3.0 or later; "old" runs 1.2.9: upgrade it');
    expect(errors({ ...filled(), connectorId: 'gone' }).connectorId).toMatch(/^must name a connected connector; "gone" is DISCONNECTED/);
  });

  it('keeps the stored secret on edit unless a new one is given', () => {
    const keep = { ...filled(), secret: { ...filled().secret, store: 'keep' as const } };
    expect(toBody(keep, 'postgresql').secret).toBeUndefined();
    expect(errors(keep, 'update')).toEqual({});
    expect(Object.keys(errors(keep, 'create'))).toEqual(['secret']);
  });

  it("puts every body field in one step, in the seed's order", () => {
    expect(STEPS.map((s) => s.title)).toEqual(['Discovery', 'Connector', 'Integration Config', 'Secret Store', 'Get more with Latchkey', 'Confirm']);
    const owned = STEPS.flatMap((s) => [...s.fields]).sort();
    expect(owned).toEqual(Object.keys(toBody(filled(), 'postgresql')).sort());
  });
});
