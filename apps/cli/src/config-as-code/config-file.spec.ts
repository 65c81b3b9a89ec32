import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFileJsonSchema } from '@latchkey/contracts';
import { ConfigFileError, parseConfigFile } from './config-file';

const issuesOf = (text: string) => {
  try {
    parseConfigFile('latchkey.yaml', text);
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  throw new Error('the file was accepted');
};

describe('the config file', () => {
  const flow = `accessFlows:
  - name: sales
    requestors:
      conditions: [{ type: group, match: is, values: [eng] }]
    targets:
      - integration: shop
        resourceType: postgresql-table
        permissions: [READ_ONLY]
    approvers: null
    maxDurationMinutes: 60
`;

  it('reads a valid file with the schema defaults', () => {
    const { config } = parseConfigFile('f.yaml', `apiVersion: latchkey/v1\n${flow}`);
    expect(config.managedBy).toBe('latchkey-cli');
    expect(config.integrations).toEqual([]);
    expect(config.accessFlows[0]).toMatchObject({ active: true, timeframe: null, requestors: { operator: 'OR' }, settings: { justificationRequired: true } });
  });

  it('names the line and column of each offending key', () => {
    const text = `apiVersion: latchkey/v1
integrations:
  - name: shop
    type: postgresql
    connectedResourceTypes: [postgresql-table]
    secret:
      store: builtin
      username: x
      password: y
${flow.replace('maxDurationMinutes: 60', 'maxDurationMinutes: 0\n    colour: blue')}`;
    expect(issuesOf(text)).toEqual([
      { file: 'latchkey.yaml', line: 7, column: 7, field: 'integrations.0.secret.store', rule: expect.stringContaining('never the secrets') },
      { file: 'latchkey.yaml', line: 19, column: 5, field: 'accessFlows.0.maxDurationMinutes', rule: 'must be at least 1' },
      { file: 'latchkey.yaml', line: 20, column: 5, field: 'accessFlows.0.colour', rule: 'is not a known field' },
    ]);
  });

  it('points a missing field at its parent, and a YAML error at its place', () => {
    expect(issuesOf(`apiVersion: latchkey/v1\naccessFlows:\n  - name: x\n`)).toContainEqual(
      expect.objectContaining({ line: 3, column: 5, field: 'accessFlows.0.requestors', rule: 'is required' }),
    );
    expect(issuesOf('apiVersion: latchkey/v1\nintegrations: [\n')[0]).toMatchObject({ field: '(syntax)', line: expect.any(Number) });
    expect(issuesOf('apiVersion: latchkey/v1\nmanagedBy: a\nmanagedBy: b\n')[0]).toMatchObject({ field: '(syntax)', line: 3 });
  });

  it('has its JSON Schema published beside the CLI, as generated from the contracts', () => {
    const published = JSON.parse(readFileSync(join(__dirname, '../../latchkey.schema.json'), 'utf8'));
    // Regenerate with: npm run --silent cli -- schema > apps/cli/latchkey.schema.json
    expect(published).toEqual(configFileJsonSchema());
    expect(
      published.properties.integrations.items.properties.secret.oneOf.map((s: { properties: { store: { const: string } } }) => s.properties.store.const),
    ).toEqual(['env', 'file']);
  });
});
