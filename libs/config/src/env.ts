import { z } from 'zod';
import {
  CONNECTOR_ID_PATTERN,
  OIDC_DEFAULTS,
  OidcClientId,
  OidcClientSecret,
  OidcGroupsClaim,
  OidcIssuerUrl,
  OidcProviderName,
  OidcScopes,
} from '@latchkey/contracts';
import { parseRedisUrl } from './redis-url';

const url = (protocols: string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`,
    );

/** One URL, or several separated by commas: the seed servers of a NATS cluster (the client learns the other nodes from them). */
const urlList = (protocols: string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => {
        try {
          return v.split(',').every((part) => protocols.includes(new URL(part.trim()).protocol));
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}, or several separated by commas`,
    );

/** An http(s) URL without path, query or fragment (a trailing slash is dropped). */
const publicUrl = z
  .string()
  .transform((v) => v.replace(/\/+$/, ''))
  .refine((v) => {
    try {
      const u = new URL(v);
      return ['http:', 'https:'].includes(u.protocol) && u.pathname === '/' && !u.search && !u.hash && !u.username;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL with no path, e.g. https://latchkey.example.com');

/** A positive number of minutes or hours; fractions let tests shorten it. */
const duration = (fallback: number, min: number, max: number, unit: string) =>
  z.coerce
    .number({ error: `must be a number of ${unit}` })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);

const seconds = (fallback: number, max: number) =>
  z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(fallback);

/** `true` or `false` (also 1/0, yes/no), any case. */
const flag = (fallback: boolean) =>
  z
    .string()
    .transform((v) => v.trim().toLowerCase())
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
    .transform((v) => ['true', '1', 'yes'].includes(v))
    .optional()
    .transform((v) => v ?? fallback);

/** The package version; connectors report it unless CONNECTOR_VERSION overrides it. */
export const LATCHKEY_VERSION = '1.3.0';

export const CommonEnv = z.object({
  NATS_URL: urlList(['nats:', 'tls:'], 'nats://127.0.0.1:4222'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
  /** Liveness (`/livez`) and readiness (`/readyz`) for orchestrators on this port; unset: no probe listener (the gateway answers both on PORT too). */
  PROBE_PORT: z.coerce.number().int().min(0, 'must be a port (0-65535)').max(65535, 'must be a port (0-65535)').optional(),
  PROBE_HOST: z.string().default('0.0.0.0'),
});

export const DatabaseEnv = z.object({
  LATCHKEY_DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/latchkey'),
});

export const RedisEnv = z.object({
  /** One server, a Redis Cluster or Sentinels: see parseRedisUrl. */
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .superRefine((v, ctx) => {
      const target = parseRedisUrl(v);
      if ('error' in target) ctx.addIssue({ code: 'custom', message: target.error });
    }),
});

export const MasterKeyEnv = z.object({
  LATCHKEY_MASTER_KEY: z.string().optional(),
  LATCHKEY_MASTER_KEY_FILE: z.string().optional(),
});

export const ConnectorEnv = z.object({
  CONNECTOR_ID: z.string().regex(CONNECTOR_ID_PATTERN, 'must be 1-64 letters, digits, _ and -').default('local'),
  CONNECTOR_VERSION: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, 'must be a version like 1.3.0')
    .default(LATCHKEY_VERSION),
  CONNECTOR_HEARTBEAT_SECONDS: seconds(5, 3600),
});

/** The gateway keeps no state of its own: no control database (people, tokens and sessions live in the access service). */
export const GatewayEnv = CommonEnv.extend({
  PORT: z.coerce.number().int().min(1, 'must be a port (1-65535)').max(65535, 'must be a port (1-65535)').default(8080),
  HOST: z.string().default('0.0.0.0'),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1500),
  /** A bearer token that may read `GET /metrics` (and nothing else), for Prometheus; admins may read it too. */
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').max(500).optional(),
  /** How long the access service's answer about a token is reused (0: ask on every request); a revocation elsewhere shows within this delay. */
  AUTH_CACHE_SECONDS: z.coerce.number().int('must be a whole number').min(0, 'must be at least 0').max(300, 'must be at most 300').default(5),
  /**
   * The URL people use to reach Latchkey: one-time links point there, and an https URL marks the
   * session cookie Secure. Unset: links use the origin of the request that asked for them.
   */
  LATCHKEY_PUBLIC_URL: publicUrl.optional(),
  /**
   * Which reverse proxies to believe about the client (X-Forwarded-For, -Proto, -Host): a number of
   * hops, or addresses/CIDRs and `loopback`, `linklocal`, `uniquelocal`, comma-separated. Unset:
   * none; the client is the socket's peer (sign-in throttling per address, the audit log).
   */
  LATCHKEY_TRUST_PROXY: z
    .string()
    .regex(
      /^(\d{1,2}|[0-9A-Za-z.:/]+(\s*,\s*[0-9A-Za-z.:/]+)*)$/,
      'must be a number of hops, or addresses, CIDRs, loopback, linklocal or uniquelocal, comma-separated',
    )
    .refine((v) => v !== 'true', 'must not be true (every client could claim any address): name the proxies or count the hops')
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : v))
    .optional(),
  /** Single sign-on with an OpenID Provider: its issuer URL (discovery reads `<issuer>/.well-known/openid-configuration`). */
  OIDC_ISSUER_URL: OidcIssuerUrl.optional(),
  OIDC_CLIENT_ID: OidcClientId.optional(),
  /** The client's secret at the provider (a confidential client); never logged. */
  OIDC_CLIENT_SECRET: OidcClientSecret.optional(),
  /** The claim (in the ID token or userinfo) that lists the person's groups. */
  OIDC_GROUPS_CLAIM: OidcGroupsClaim.default(OIDC_DEFAULTS.groupsClaim),
  /** What the sign-in page's button says: "Sign in with <name>". */
  OIDC_PROVIDER_NAME: OidcProviderName.default(OIDC_DEFAULTS.providerName),
  /** Scopes asked for; `openid` is always among them. */
  OIDC_SCOPES: OidcScopes.default(OIDC_DEFAULTS.scopes),
}).superRefine((env, ctx) => {
  // OIDC is on when the issuer is set; then the client, its secret and the public URL (the redirect URI's origin) are needed.
  if (!env.OIDC_ISSUER_URL) return;
  if (!env.OIDC_CLIENT_ID) ctx.addIssue({ code: 'custom', path: ['OIDC_CLIENT_ID'], message: 'must be set when OIDC_ISSUER_URL is' });
  if (!env.OIDC_CLIENT_SECRET) ctx.addIssue({ code: 'custom', path: ['OIDC_CLIENT_SECRET'], message: 'must be set when OIDC_ISSUER_URL is' });
  if (!env.LATCHKEY_PUBLIC_URL)
    ctx.addIssue({
      code: 'custom',
      path: ['LATCHKEY_PUBLIC_URL'],
      message: 'must be set when OIDC_ISSUER_URL is (the redirect URI is <LATCHKEY_PUBLIC_URL>/api/v1/auth/oidc/callback)',
    });
});
export type GatewayEnv = z.output<typeof GatewayEnv>;

export const CatalogEnv = CommonEnv.extend(DatabaseEnv.shape)
  .extend(MasterKeyEnv.shape)
  .extend({
    CONNECTOR_OFFLINE_AFTER_SECONDS: seconds(20, 86_400),
  });
export type CatalogEnv = z.output<typeof CatalogEnv>;

export const ConnectorServiceEnv = CommonEnv.extend(ConnectorEnv.shape).extend(MasterKeyEnv.shape);
export type ConnectorServiceEnv = z.output<typeof ConnectorServiceEnv>;

/** GRANT_SCRAM_ITERATIONS unless set: why so few, at GENERATED_PASSWORD_ITERATIONS (libs/pg-access), which is this. */
export const DEFAULT_GRANT_SCRAM_ITERATIONS = 64;

/** Provisioning: a connector service that also owns grants (control database) and revocation jobs (Redis). */
export const ProvisioningEnv = ConnectorServiceEnv.extend(DatabaseEnv.shape)
  .extend(RedisEnv.shape)
  .extend({
    /** VALID UNTIL is the expiry plus this: a backstop should every revocation path fail. */
    REVOCATION_GRACE_SECONDS: seconds(300, 86_400),
    /**
     * SCRAM iterations of a personal login's verifier (its password is 32 random bytes): PostgreSQL
     * spends as many on every password it stores, about 1 ms of its CPU per 1,000 here.
     */
    GRANT_SCRAM_ITERATIONS: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(100_000, 'must be at most 100000')
      .default(DEFAULT_GRANT_SCRAM_ITERATIONS),
    /** Attempts of a revocation before the grant is STUCK (then retried by the sweeper until it succeeds). */
    REVOCATION_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
    REVOCATION_BACKOFF_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
    REVOCATION_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(32),
    /** How often the sweeper re-derives missed work from the control database. */
    SWEEP_INTERVAL_SECONDS: seconds(15, 3600),
    /** A grant still ACTIVE this long past its expiry had no revocation job run (lost, or its worker stuck): the sweeper revokes it itself. */
    REVOCATION_OVERDUE_SECONDS: seconds(60, 3600),
    /** A grant still GRANTING after this long was cut off half-way: it is rolled back. */
    GRANTING_TIMEOUT_SECONDS: seconds(120, 86_400),
    /** A personal login role unused for this long is dropped (default 7 days). */
    ROLE_CLEANUP_AFTER_SECONDS: seconds(604_800, 315_360_000),
  });
export type ProvisioningEnv = z.output<typeof ProvisioningEnv>;

/** Discovery: a connector service that keeps the inventory (control database) and schedules refreshes (Redis). */
export const DiscoveryEnv = ConnectorServiceEnv.extend(DatabaseEnv.shape)
  .extend(RedisEnv.shape)
  .extend({
    /** Every integration of the connector is refreshed this often; fractions allowed (0.5 is 30 s). */
    DISCOVERY_REFRESH_MINUTES: z.coerce
      .number({ error: 'must be a number of minutes' })
      .min(0.05, 'must be at least 0.05 (3 seconds)')
      .max(43_200, 'must be at most 43200 (30 days)')
      .default(60),
  });
export type DiscoveryEnv = z.output<typeof DiscoveryEnv>;

/** Access: identities, flows, requests and the audit log (control database); durable grant jobs (Redis). */
export const AccessEnv = CommonEnv.extend(DatabaseEnv.shape)
  .extend(RedisEnv.shape)
  .extend(MasterKeyEnv.shape)
  .extend({
    /** Becomes the bootstrap admin's API token; without it the first start generates one and prints it once. */
    LATCHKEY_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    LATCHKEY_ADMIN_EMAIL: z.string().email('must be an email address').default('admin@latchkey.local'),
    /** How often approved-but-not-granted and ending requests are re-derived from the control database. */
    ACCESS_SWEEP_INTERVAL_SECONDS: seconds(15, 3600),
    /** A request still PENDING this long (minutes) ends EXPIRED, unless its flow sets settings.pendingExpiryMinutes (default 7 days). */
    ACCESS_PENDING_EXPIRY_MINUTES: z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(525_600, 'must be at most 525600 (a year)')
      .default(10_080),
    /** A browser session unused this long ends (fractions allowed: 0.5 is 30 s). */
    SESSION_IDLE_MINUTES: duration(60, 0.05, 10_080, 'minutes'),
    /** A browser session ends this long after sign-in, however much it is used. */
    SESSION_MAX_HOURS: duration(12, 0.001, 720, 'hours'),
    /** Sign-in failures allowed per account (the email typed, known or not) within the window before 429. */
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT: z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .default(5),
    /** Sign-in failures allowed per client address within the window before 429. */
    SIGN_IN_MAX_FAILURES_PER_ADDRESS: z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(100_000, 'must be at most 100000')
      .default(20),
    SIGN_IN_FAILURE_WINDOW_MINUTES: duration(15, 0.05, 1440, 'minutes'),
    /** How long an invite link stays valid. */
    INVITE_LINK_HOURS: duration(24, 0.01, 720, 'hours'),
    /** Single sign-on creates the account of a person it does not know yet (just-in-time); false: only existing users may sign in with it. */
    OIDC_JIT: flag(true),
    /** Password sign-in refused for everyone but LATCHKEY_ADMIN_EMAIL (the break-glass admin): people sign in with single sign-on. */
    AUTH_REQUIRE_SSO: flag(false),
    /** How long a password-reset link (and the bootstrap admin's link printed by `npm start`) stays valid. */
    RESET_LINK_HOURS: duration(1, 0.01, 720, 'hours'),
  });
export type AccessEnv = z.output<typeof AccessEnv>;

/** Rotation: a connector service that rotates connector credentials on per-integration schedules (Redis). */
export const RotationEnv = ConnectorServiceEnv.extend(RedisEnv.shape).extend({
  /** Seconds in one day of `credentialRotationDays`. Tests shorten it to see a schedule fire; leave it alone otherwise. */
  ROTATION_DAY_SECONDS: seconds(86_400, 86_400),
});
export type RotationEnv = z.output<typeof RotationEnv>;

/** The Standard Webhooks specification's retry schedule: seconds to wait before each attempt. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '0,5,300,1800,7200,18000,36000,50400,72000,86400';

/** Notifications: webhooks, email, expiry warnings; its own tables (control database) and timing (Redis). */
export const NotificationsEnv = CommonEnv.extend(DatabaseEnv.shape)
  .extend(RedisEnv.shape)
  .extend(MasterKeyEnv.shape)
  .extend({
    /** Seconds to wait before each attempt of a webhook delivery, comma-separated; one attempt per entry. */
    WEBHOOK_RETRY_SCHEDULE: z
      .string()
      .default(DEFAULT_WEBHOOK_RETRY_SCHEDULE)
      .transform((v, ctx) => {
        const parts = v.split(',').map((p) => p.trim());
        const values = parts.map(Number);
        if (parts.length > 20 || values.some((n, i) => parts[i] === '' || !Number.isFinite(n) || n < 0 || n > 604_800)) {
          ctx.addIssue({ code: 'custom', message: 'must be 1 to 20 comma-separated numbers of seconds (0 to 604800)' });
          return z.NEVER;
        }
        return values;
      }),
    /** Lets webhook endpoints sit on private, loopback or link-local addresses (a webhook is an SSRF vector). */
    WEBHOOK_ALLOW_PRIVATE_URLS: flag(false),
    /** One attempt gives up after this long (connect, send, answer). */
    WEBHOOK_TIMEOUT_SECONDS: seconds(15, 300),
    /** Attempts sent at the same time, all endpoints together. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(32),
    /** Attempts sent at the same time to one endpoint: a slow endpoint holds at most this many. */
    WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(2),
    /** After a secret rotation, messages carry both signatures for this long. */
    WEBHOOK_SECRET_OVERLAP_HOURS: z.coerce.number().min(0).max(720).default(24),
    /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://...` (TLS); unset: no email. */
    SMTP_URL: z
      .string()
      .refine((v) => {
        try {
          const u = new URL(v);
          return ['smtp:', 'smtps:'].includes(u.protocol) && u.hostname !== '';
        } catch {
          return false;
        }
      }, 'must be a URL with scheme smtp:// or smtps:// and a host')
      .optional(),
    SMTP_FROM: z.string().default('Latchkey <latchkey@localhost>'),
    /** Minutes before a grant ends that the requester is warned. */
    EXPIRY_WARNING_MINUTES: z.coerce
      .number({ error: 'must be a number of minutes' })
      .min(0.05, 'must be at least 0.05 (3 seconds)')
      .max(10_080, 'must be at most 10080 (7 days)')
      .default(10),
    /** The URL people use to reach Latchkey: links in messages point there. */
    LATCHKEY_PUBLIC_URL: url(['http:', 'https:'], 'http://localhost:8080'),
    /** How often work missed (Redis lost, a crash) is re-derived from the control database. */
    NOTIFICATIONS_SWEEP_INTERVAL_SECONDS: seconds(5, 3600),
    /** How often integrations, connectors and stuck revocations are checked for admin alerts. */
    ALERTS_INTERVAL_SECONDS: seconds(30, 86_400),
    /** Where admin alerts are mailed, comma-separated; unset: every admin user. */
    ALERTS_EMAIL: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((a) => /^[^\s@]+@[^\s@]+$/.test(a)), 'must be comma-separated email addresses')
      .optional(),
    /** How often the audit chain is verified for the `audit.chain_broken` alert (a walk of the whole log). */
    AUDIT_VERIFY_INTERVAL_MINUTES: z.coerce
      .number({ error: 'must be a number of minutes' })
      .min(0.01, 'must be at least 0.01')
      .max(10_080, 'must be at most 10080 (7 days)')
      .default(60),
  });
export type NotificationsEnv = z.output<typeof NotificationsEnv>;

/** Every variable with its default, for README and `npm start` to print. */
export const ENVIRONMENT_SCHEMAS = {
  'api-gateway': GatewayEnv,
  'integration-catalog': CatalogEnv,
  discovery: DiscoveryEnv,
  provisioning: ProvisioningEnv,
  rotation: RotationEnv,
  access: AccessEnv,
  notifications: NotificationsEnv,
} as const;
