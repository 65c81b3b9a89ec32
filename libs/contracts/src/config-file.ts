import { z } from 'zod';
import { AccessFlowInput, FlowTarget } from './access';
import { GroupInput, UserInput } from './identities';
import { IntegrationInput } from './integrations';
import { WebhookInput } from './notifications';
import { EnvSecretInput, EnvVarName, FileSecretInput } from './secrets';
import { text } from './text';

/** The version of the `latchkey apply` file format. */
export const CONFIG_FILE_API_VERSION = 'latchkey/v1';
/** The marker apply puts on what it manages when the file names none. */
export const DEFAULT_MANAGED_BY = 'latchkey-cli';

/** A secret in a config file: a reference only (variables or a file on the connector's host), never the secret itself. */
export const ConfigSecret = z.discriminatedUnion('store', [EnvSecretInput, FileSecretInput], {
  error: "must have store 'env' (usernameVar, passwordVar) or 'file' (path): a config file holds references to secrets, never the secrets",
});

/** An integration as a config file declares it: the API body, its secret by reference. */
export const ConfigIntegration = IntegrationInput.omit({ secret: true, managedBy: true }).extend({ secret: ConfigSecret }).strict();
export type ConfigIntegration = z.input<typeof ConfigIntegration>;

/** A flow's target names its integration (in the file or already on the server) instead of its id. */
export const ConfigFlowTarget = FlowTarget.omit({ integrationId: true }).extend({ integration: IntegrationInput.shape.name }).strict();

export const ConfigAccessFlow = AccessFlowInput.omit({ managedBy: true, targets: true })
  .extend({ targets: z.array(ConfigFlowTarget).min(1, 'must list at least one target').max(50, 'must list at most 50 targets') })
  .strict();
export type ConfigAccessFlow = z.input<typeof ConfigAccessFlow>;

/** A group as a config file declares it; its members are the users that list it in their `groups`, as in the API. */
export const ConfigGroup = GroupInput.omit({ managedBy: true }).strict();
export type ConfigGroup = z.input<typeof ConfigGroup>;

/** A user as a config file declares it: who they are and what they may do, never a password or a token. */
export const ConfigUser = UserInput.omit({ managedBy: true })
  .extend({ active: z.boolean({ error: 'must be true or false' }).default(true) })
  .strict();
export type ConfigUser = z.input<typeof ConfigUser>;

/** A value read from the environment of the machine that runs `latchkey plan/apply`. */
export const ConfigEnvReference = z.object({ env: EnvVarName }).strict();

/**
 * A webhook endpoint as a config file declares it. Filters name integrations and flows (in the
 * file or on the server). A URL that holds a secret (credentials, a query, a Slack webhook path)
 * is given by reference, `{ env: VARIABLE }`; the signing secret is made by the server.
 */
export const ConfigWebhook = WebhookInput.omit({ managedBy: true, url: true, filters: true })
  .extend({
    url: z.union([WebhookInput.shape.url, ConfigEnvReference], { error: 'must be an http(s) URL, or { env: VARIABLE } naming the variable that holds it' }),
    filters: z
      .object({
        integrations: z.array(IntegrationInput.shape.name).max(200, 'must list at most 200 integrations').optional(),
        flows: z.array(AccessFlowInput.shape.name).max(200, 'must list at most 200 flows').optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((webhook, ctx) => {
    if (typeof webhook.url !== 'string' || !URL.canParse(webhook.url)) return;
    const url = new URL(webhook.url);
    if (url.username || url.password || url.search || webhook.format === 'slack') {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'holds a secret (credentials, a query or a Slack webhook path): give it by reference, url: { env: VARIABLE }',
      });
    }
  });
export type ConfigWebhook = z.input<typeof ConfigWebhook>;

const uniqueBy =
  <K extends string>(field: K, kind: string) =>
  (items: Array<Record<K, string>>, ctx: z.RefinementCtx) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const key = item[field].toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, field], message: `must be unique regardless of case (${kind} ${seen.get(key)} has it too)` });
      else seen.set(key, i);
    });
  };
const uniqueNames = (kind: string) => uniqueBy('name', kind);

/**
 * The file of `latchkey plan/apply -f` and `latchkey export`: groups, users (by email),
 * integrations, access flows and webhook endpoints, each known by its name. Objects apply creates carry `managedBy`; `--prune` deletes only those.
 */
export const ConfigFile = z
  .object({
    $schema: text({ max: 2000 }).optional(),
    apiVersion: z.literal(CONFIG_FILE_API_VERSION, { error: `must be ${CONFIG_FILE_API_VERSION}` }),
    managedBy: text({ trim: true, min: 1, max: 100 }).default(DEFAULT_MANAGED_BY),
    integrations: z.array(ConfigIntegration).max(500, 'must list at most 500 integrations').superRefine(uniqueNames('integration')).default([]),
    accessFlows: z.array(ConfigAccessFlow).max(1000, 'must list at most 1000 access flows').superRefine(uniqueNames('access flow')).default([]),
    groups: z.array(ConfigGroup).max(5000, 'must list at most 5000 groups').superRefine(uniqueNames('group')).default([]),
    users: z.array(ConfigUser).max(10000, 'must list at most 10000 users').superRefine(uniqueBy('email', 'user')).default([]),
    webhooks: z.array(ConfigWebhook).max(500, 'must list at most 500 webhooks').superRefine(uniqueNames('webhook')).default([]),
  })
  .strict();
export type ConfigFile = z.output<typeof ConfigFile>;

/** The JSON Schema of the file, for editors (`latchkey schema`; apps/cli/latchkey.schema.json). */
export function configFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigFile, { io: 'input', unrepresentable: 'any' }),
    title: 'latchkey apply file',
  };
}
