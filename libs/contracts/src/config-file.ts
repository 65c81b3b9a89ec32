import { z } from 'zod';
import { AccessFlowInput, FlowTarget } from './access';
import { IntegrationInput } from './integrations';
import { EnvSecretInput, FileSecretInput } from './secrets';
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
export const ConfigFlowTarget = FlowTarget.omit({ integrationId: true })
  .extend({ integration: IntegrationInput.shape.name })
  .strict();

export const ConfigAccessFlow = AccessFlowInput.omit({ managedBy: true, targets: true })
  .extend({ targets: z.array(ConfigFlowTarget).min(1, 'must list at least one target').max(50, 'must list at most 50 targets') })
  .strict();
export type ConfigAccessFlow = z.input<typeof ConfigAccessFlow>;

const uniqueNames = (kind: string) => (items: Array<{ name: string }>, ctx: z.RefinementCtx) => {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const key = item.name.toLowerCase();
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `must be unique regardless of case (${kind} ${seen.get(key)} has it too)` });
    else seen.set(key, i);
  });
};

/**
 * The file of `latchkey plan/apply -f` and `latchkey export`: integrations and access flows,
 * each known by its name. Objects apply creates carry `managedBy`; `--prune` deletes only those.
 */
export const ConfigFile = z
  .object({
    $schema: text({ max: 2000 }).optional(),
    apiVersion: z.literal(CONFIG_FILE_API_VERSION, { error: `must be ${CONFIG_FILE_API_VERSION}` }),
    managedBy: text({ trim: true, min: 1, max: 100 }).default(DEFAULT_MANAGED_BY),
    integrations: z.array(ConfigIntegration).max(500, 'must list at most 500 integrations').superRefine(uniqueNames('integration')).default([]),
    accessFlows: z.array(ConfigAccessFlow).max(1000, 'must list at most 1000 access flows').superRefine(uniqueNames('access flow')).default([]),
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
