import { z } from 'zod';
import {
  IntegrationInput,
  IntegrationTypeDescription,
  IntegrationUpdateInput,
  integrationOwnerIssues,
  issuesFromZod,
  permissionsOf,
  PostgresConfig,
  ResourceType,
  SecretStore,
  ValidationIssue,
} from '@latchkey/contracts';
import { isLatchkeyFile, isLatchkeyVariable, LATCHKEY_FILE_RULE, LATCHKEY_VARIABLE_RULE } from './reserved';

export { isHostname, PostgresConfig } from '@latchkey/contracts';

export interface IntegrationTypeDefinition {
  readonly description: IntegrationTypeDescription;
  readonly configSchema: z.ZodType<Record<string, unknown>>;
}

export const INTEGRATION_TYPES: Readonly<Record<string, IntegrationTypeDefinition>> = {
  postgresql: {
    configSchema: PostgresConfig,
    description: {
      type: 'postgresql',
      name: 'PostgreSQL',
      description: 'Time-boxed personal logins on PostgreSQL 13-18, granted through profile roles and taken back on time.',
      minimumConnectorVersion: '1.3.0',
      configSchema: z.toJSONSchema(PostgresConfig, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
      configDefaults: { port: 5432, dbname: 'postgres', sslmode: 'prefer' },
      resourceTypes: ResourceType.options.map((type) => ({ type, permissions: [...permissionsOf(type)] })),
      secretStores: [...SecretStore.options],
    },
  },
};

export type ValidIntegration = z.output<typeof IntegrationInput> & { config: Record<string, unknown> };
export type ValidIntegrationUpdate = z.output<typeof IntegrationUpdateInput> & { config: Record<string, unknown> };
export type ValidatedIntegration<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks an integration body completely: the common fields, the type's own config schema and the
 * cross-field rules, so that one answer names every broken rule.
 */
export function validateIntegrationInput(body: unknown, mode: 'create'): ValidatedIntegration<ValidIntegration>;
export function validateIntegrationInput(body: unknown, mode: 'update'): ValidatedIntegration<ValidIntegrationUpdate>;
export function validateIntegrationInput(body: unknown, mode: 'create' | 'update'): ValidatedIntegration<ValidIntegrationUpdate> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, issues: [{ field: '(body)', rule: 'must be a JSON object' }] };
  }
  const schema = mode === 'create' ? IntegrationInput : IntegrationUpdateInput;
  const issues: ValidationIssue[] = [];
  const common = schema.safeParse(body);
  if (!common.success) issues.push(...issuesFromZod(common.error));

  const raw = body as Record<string, unknown>;
  const definition = typeof raw.type === 'string' ? INTEGRATION_TYPES[raw.type] : undefined;
  let config: Record<string, unknown> | undefined;
  if (typeof raw.type === 'string' && raw.type && !definition) {
    issues.push({ field: 'type', rule: `must be one of: ${Object.keys(INTEGRATION_TYPES).join(', ')}` });
  } else if (definition) {
    const parsed = definition.configSchema.safeParse(raw.config ?? {});
    if (parsed.success) config = parsed.data;
    else issues.push(...issuesFromZod(parsed.error, ['config']));
  }

  issues.push(...integrationOwnerIssues(raw));

  issues.push(...secretSourceIssues(raw.secret));

  if (issues.length > 0 || !common.success || !config) {
    return { ok: false, issues: dedupe(issues) };
  }
  return { ok: true, value: { ...common.data, config } };
}

/**
 * A secret by reference must point at the connector's credentials, never at Latchkey's own
 * variables or key files: their value would then travel as a username or password, and could
 * show in a connection error.
 */
export function secretSourceIssues(secret: unknown, keyFiles: readonly string[] = []): ValidationIssue[] {
  if (typeof secret !== 'object' || secret === null) return [];
  const s = secret as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  if (s.store === 'env') {
    for (const field of ['usernameVar', 'passwordVar'] as const) {
      const name = s[field];
      if (typeof name === 'string' && isLatchkeyVariable(name)) issues.push({ field: `secret.${field}`, rule: LATCHKEY_VARIABLE_RULE });
    }
  }
  if (s.store === 'file' && typeof s.path === 'string' && isLatchkeyFile(s.path, keyFiles)) {
    issues.push({ field: 'secret.path', rule: LATCHKEY_FILE_RULE });
  }
  return issues;
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.field}\u0000${i.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
