import { GatewayEnv } from '@latchkey/config';
import { Contracts, setPasswordUrl } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';

/** Where links point: LATCHKEY_PUBLIC_URL, or the gateway on this machine. */
export const consoleBaseUrl = (env: NodeJS.ProcessEnv = process.env): string =>
  GatewayEnv.shape.LATCHKEY_PUBLIC_URL.parse(env.LATCHKEY_PUBLIC_URL || undefined) ?? `http://127.0.0.1:${env.PORT || 8080}`;

/**
 * The bootstrap admin's one-time set-password link, asked of the access service over NATS
 * (`access.password-links.bootstrap`) while they have no password: null once they have one. Each
 * call replaces the previous unused link. Printed by whoever asked, never logged.
 */
export async function bootstrapLink(natsUrl: string, baseUrl: string): Promise<{ email: string; url: string; expiresAt: string } | null> {
  const bus = new MessageBus(natsUrl, 'latchkey-bootstrap-link', 10_000);
  await bus.connect();
  try {
    const link = await bus.request(Contracts.accessPasswordLinksBootstrap, {});
    return link && { email: link.email, url: setPasswordUrl(baseUrl, link.token), expiresAt: link.expiresAt };
  } finally {
    await bus.close();
  }
}

// `node dist/tools/start/bootstrap-link.js` (e.g. `docker compose exec api-gateway ...`): a new link, without restarting anything.
if (require.main === module) {
  bootstrapLink(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', consoleBaseUrl())
    .then((link) => {
      process.stdout.write(
        link
          ? `One-time link for ${link.email} to set a password (valid until ${link.expiresAt}):\n  ${link.url}\n`
          : 'The bootstrap admin already has a password: sign in, or ask another admin for a reset link.\n',
      );
      process.exit(0);
    })
    .catch((err: Error) => {
      process.stderr.write(`no link: ${err.message}\n`);
      process.exit(1);
    });
}
