import type { IntegrationTarget } from '@latchkey/contracts';
import { PostgresConfig } from '@latchkey/config';
import { resolveSecret, SecretsError, type ResolveSecretContext } from '@latchkey/secrets';
import type { TargetConnectionParams } from './connection';

/** The integration cannot be reached from here: its type or config, or its secret. The message says which. */
export class TargetConfigError extends Error {}

/**
 * Connection parameters for an integration target, on a connector. The secret is resolved on
 * every call and never cached: env and file secrets may change under us. A staged rotation
 * password comes along as `pendingPassword` (see connectTarget).
 */
export async function targetConnectionParams(
  target: IntegrationTarget,
  ctx: ResolveSecretContext & { applicationName: string },
): Promise<{ params: TargetConnectionParams; config: PostgresConfig }> {
  const config = PostgresConfig.safeParse(target.config);
  if (target.type !== 'postgresql' || !config.success) {
    throw new TargetConfigError(`this connector cannot reach a ${target.type} integration with this config`);
  }
  try {
    const credentials = await resolveSecret(target.secret, ctx);
    const pending = target.pendingSecret ? await resolveSecret(target.pendingSecret, ctx) : undefined;
    return {
      config: config.data,
      params: {
        ...config.data,
        username: credentials.username,
        password: credentials.password,
        // A rotation in flight: its staged password is the fallback for the same user.
        ...(pending && pending.username === credentials.username && pending.password !== credentials.password ? { pendingPassword: pending.password } : {}),
        applicationName: ctx.applicationName,
      },
    };
  } catch (err) {
    if (err instanceof SecretsError) throw new TargetConfigError(`secret: ${err.message}`);
    throw err;
  }
}
