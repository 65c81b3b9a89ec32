import { connectorRefusalRule, IntegrationInput, integrationOwnerIssues, IntegrationUpdateInput, PostgresConfig, ResourceType } from '@latchkey/contracts';
import type { Connector, Integration, SslMode } from '@latchkey/contracts';
import { numberOrText, schemaErrors, splitList } from '../forms/form-state';
import type { FieldErrors } from '../forms/form-state';

/** What the wizard's boxes hold: text as typed; `toBody` turns it into the API's body. */
export interface IntegrationValues {
  connectedResourceTypes: ResourceType[];
  connectorId: string;
  name: string;
  config: { hostname: string; port: string; dbname: string; sslmode: SslMode; sslRootCert: string };
  /** `keep`: on edit, leave the stored secret as it is. */
  secret: { store: 'builtin' | 'env' | 'file' | 'keep'; username: string; password: string; usernameVar: string; passwordVar: string; path: string };
  credentialRotationDays: string;
  customAccessDetails: string;
  integrationOwners: Array<{ attribute: string; values: string }>;
  resourceOwnerMappings: Array<{ tagKey: string; attribute: string }>;
}

/** The seed's order; each step owns the body fields under these paths (a 400 opens the first step it names). */
export const STEPS = [
  { id: 'discovery', title: 'Discovery', fields: ['connectedResourceTypes'] },
  { id: 'connector', title: 'Connector', fields: ['connectorId', 'type'] },
  { id: 'config', title: 'Integration Config', fields: ['name', 'config'] },
  { id: 'secret', title: 'Secret Store', fields: ['secret'] },
  { id: 'more', title: 'Get more with Latchkey', fields: ['credentialRotationDays', 'customAccessDetails', 'integrationOwners', 'resourceOwnerMappings'] },
  { id: 'confirm', title: 'Confirm', fields: [] },
] as const;

export const SSL_MODE_WORDS: Record<SslMode, string> = {
  require: 'An SSL-encrypted connection must be used.',
  allow: 'An SSL-encrypted or unencrypted connection is used. If an SSL encrypted connection is unavailable, the unencrypted connection is used.',
  disable: 'An unencrypted connection is used.',
  prefer: 'An SSL encrypted connection is attempted. If the encrypted connection is unavailable, the unencrypted connection is used.',
  'verify-ca': 'An SSL-encrypted connection must be used and a server certification verification against the provided CA certificates must pass.',
  'verify-full':
    "An SSL-encrypted connection must be used and a server certification verification against the provided CA certificates must pass. Additionally, the server hostname is checked against the certificate's names.",
};
export const SSL_MODE_ORDER: readonly SslMode[] = ['require', 'allow', 'disable', 'prefer', 'verify-ca', 'verify-full'];
export const CA_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full'];

export function emptyIntegration(defaults: Record<string, unknown>): IntegrationValues {
  return {
    connectedResourceTypes: ['postgresql-database', 'postgresql-schema', 'postgresql-table'],
    connectorId: '',
    name: '',
    config: {
      hostname: '',
      port: String(defaults.port ?? 5432),
      dbname: String(defaults.dbname ?? 'postgres'),
      sslmode: (defaults.sslmode as SslMode | undefined) ?? 'prefer',
      sslRootCert: '',
    },
    secret: { store: 'builtin', username: '', password: '', usernameVar: '', passwordVar: '', path: '' },
    credentialRotationDays: '',
    customAccessDetails: '',
    integrationOwners: [],
    resourceOwnerMappings: [],
  };
}

/** An existing integration in the wizard's boxes; the secret is never shown, only kept or replaced. */
export function valuesOf(integration: Integration): IntegrationValues {
  const c = integration.config as Record<string, unknown>;
  return {
    connectedResourceTypes: [...integration.connectedResourceTypes],
    connectorId: integration.connectorId,
    name: integration.name,
    config: {
      hostname: String(c.hostname ?? ''),
      port: String(c.port ?? 5432),
      dbname: String(c.dbname ?? 'postgres'),
      sslmode: (c.sslmode as SslMode | undefined) ?? 'prefer',
      sslRootCert: typeof c.sslRootCert === 'string' ? c.sslRootCert : '',
    },
    secret: { store: 'keep', username: '', password: '', usernameVar: '', passwordVar: '', path: '' },
    credentialRotationDays: integration.credentialRotationDays === null ? '' : String(integration.credentialRotationDays),
    customAccessDetails: integration.customAccessDetails ?? '',
    integrationOwners: integration.integrationOwners.map((o) => ({ attribute: o.attribute, values: o.values.join(', ') })),
    resourceOwnerMappings: integration.resourceOwnerMappings.map((m) => ({ ...m })),
  };
}

export function toBody(values: IntegrationValues, type: string): Record<string, unknown> {
  const { secret, config } = values;
  const days = numberOrText(values.credentialRotationDays);
  return {
    name: values.name.trim(),
    type,
    connectorId: values.connectorId,
    connectedResourceTypes: values.connectedResourceTypes,
    config: {
      hostname: config.hostname.trim(),
      port: numberOrText(config.port),
      dbname: config.dbname,
      sslmode: config.sslmode,
      ...(config.sslRootCert.trim() ? { sslRootCert: config.sslRootCert } : {}),
    },
    ...(secret.store === 'builtin'
      ? { secret: { store: 'builtin', username: secret.username, password: secret.password } }
      : secret.store === 'env'
        ? { secret: { store: 'env', usernameVar: secret.usernameVar.trim(), passwordVar: secret.passwordVar.trim() } }
        : secret.store === 'file'
          ? { secret: { store: 'file', path: secret.path.trim() } }
          : {}),
    credentialRotationDays: days ?? null,
    customAccessDetails: values.customAccessDetails === '' ? null : values.customAccessDetails,
    integrationOwners: values.integrationOwners.map((o) => ({ attribute: o.attribute.trim(), values: splitList(o.values) })),
    resourceOwnerMappings: values.resourceOwnerMappings.map((m) => ({ tagKey: m.tagKey.trim(), attribute: m.attribute.trim() })),
  };
}

const CreateBody = IntegrationInput.extend({ config: PostgresConfig });
const UpdateBody = IntegrationUpdateInput.extend({ config: PostgresConfig });

/**
 * The API's own rules (contracts' IntegrationInput, the PostgreSQL config schema, the owner rule)
 * plus the connector's usability as the catalog judges it.
 */
export function integrationErrors(
  values: IntegrationValues,
  type: string,
  mode: 'create' | 'update',
  connectors: readonly Connector[] | undefined,
  minimumVersion: string,
): FieldErrors {
  const body = toBody(values, type);
  const extra = integrationOwnerIssues(body);
  const connector = connectors?.find((c) => c.id === values.connectorId);
  if (connector) {
    const rule = connectorRefusalRule(connector, minimumVersion);
    if (rule) extra.push({ field: 'connectorId', rule });
  }
  return schemaErrors(mode === 'create' ? CreateBody : UpdateBody, body, extra);
}
