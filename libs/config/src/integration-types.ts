import { isIP } from 'node:net';
import { z } from 'zod';
import {
  IntegrationInput,
  IntegrationTypeDescription,
  IntegrationUpdateInput,
  isCleanText,
  CLEAN_TEXT_RULE,
  issuesFromZod,
  permissionsOf,
  RESOURCE_OWNER_RULE,
  ResourceType,
  SecretStore,
  SslMode,
  ValidationIssue,
} from '@latchkey/contracts';
import { isLatchkeyFile, isLatchkeyVariable, LATCHKEY_FILE_RULE, LATCHKEY_VARIABLE_RULE } from './reserved';

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export const isHostname = (value: string): boolean =>
  isIP(value) !== 0 || (value.length <= 253 && value.split('.').every((label) => DNS_LABEL.test(label)));

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const TLS_VERIFYING_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full'];

/** The seed's PostgreSQL settings; defaults: port 5432, database `postgres`, sslmode `prefer`. */
export const PostgresConfig = z
  .object({
    hostname: z.string({ error: 'is required' }).min(1, 'is required').refine(isHostname, 'must be a DNS name or an IP address'),
    port: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be between 1 and 65535').max(65535, 'must be between 1 and 65535').default(5432),
    dbname: z
      .string()
      .min(1, 'must not be empty')
      .refine((v) => Buffer.byteLength(v, 'utf8') <= 63, 'must be at most 63 bytes (PostgreSQL truncates longer names)')
      .refine(isCleanText, CLEAN_TEXT_RULE)
      .default('postgres'),
    sslmode: SslMode.default('prefer'),
    sslRootCert: z.string().max(65_536, 'must be at most 64 KiB').regex(PEM_CERTIFICATE, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)').refine(isCleanText, CLEAN_TEXT_RULE).nullish(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.sslRootCert && !TLS_VERIFYING_MODES.includes(config.sslmode)) {
      ctx.addIssue({ code: 'custom', path: ['sslRootCert'], message: 'is used only with sslmode require, verify-ca or verify-full' });
    }
  });
export type PostgresConfig = z.output<typeof PostgresConfig>;

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

  const mappings = raw.resourceOwnerMappings;
  const owners = raw.integrationOwners;
  if (Array.isArray(mappings) && mappings.length > 0 && !(Array.isArray(owners) && owners.length > 0)) {
    issues.push({ field: 'integrationOwners', rule: RESOURCE_OWNER_RULE });
  }

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
