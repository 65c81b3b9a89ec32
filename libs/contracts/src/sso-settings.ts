import { z } from 'zod';
import { Actor } from './audit';
import { defineRequest } from './contract';
import { text } from './text';

/** One rule per setting, for the environment variables (libs/config) and the settings an admin saves alike. */
export const OidcIssuerUrl = z.string().refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be an http(s) URL');
export const OidcClientId = text({ min: 1, max: 500 });
export const OidcClientSecret = text({ min: 8, max: 2000 });
export const OidcGroupsClaim = text({ min: 1, max: 200 });
export const OidcProviderName = text({ min: 1, max: 100 });
export const OidcScopes = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be scopes separated by single spaces');
export const OIDC_DEFAULTS = { groupsClaim: 'groups', providerName: 'single sign-on', scopes: 'openid email profile' } as const;

/**
 * Single sign-on as an admin sets it (`PUT /api/v1/settings/sso`): it takes precedence over the
 * OIDC_* environment variables. The client secret is write-only: sealed under the master key at
 * once, never answered; leave it out to keep the stored one. `requireSso` and `justInTime`
 * override AUTH_REQUIRE_SSO and OIDC_JIT when given.
 */
export const SsoSettingsInput = z
  .object({
    issuerUrl: OidcIssuerUrl,
    clientId: OidcClientId,
    clientSecret: OidcClientSecret.optional(),
    providerName: OidcProviderName.default(OIDC_DEFAULTS.providerName),
    groupsClaim: OidcGroupsClaim.default(OIDC_DEFAULTS.groupsClaim),
    scopes: OidcScopes.default(OIDC_DEFAULTS.scopes),
    requireSso: z.boolean().optional(),
    justInTime: z.boolean().optional(),
  })
  .strict();
export type SsoSettingsInput = z.input<typeof SsoSettingsInput>;

/** Where the single sign-on in effect comes from. */
export const SsoSource = z.enum(['settings', 'environment', 'none']);
export type SsoSource = z.infer<typeof SsoSource>;

/** What an admin reads back: never the secret, only whether one is stored. */
export const SsoSettings = z.object({
  source: SsoSource,
  issuerUrl: z.string().nullable(),
  clientId: z.string().nullable(),
  clientSecretSet: z.boolean(),
  providerName: z.string(),
  groupsClaim: z.string(),
  scopes: z.string(),
  /** In effect (the saved value, else the access service's environment). */
  requireSso: z.boolean(),
  justInTime: z.boolean(),
  /** The redirect URI to register at the provider; null until LATCHKEY_PUBLIC_URL is set. */
  redirectUri: z.string().nullable(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
export type SsoSettings = z.infer<typeof SsoSettings>;

/** The stored settings as the access service answers them (the gateway adds its environment's and the redirect URI). */
export const StoredSsoSettings = z.object({
  issuerUrl: z.string(),
  clientId: z.string(),
  providerName: z.string(),
  groupsClaim: z.string(),
  scopes: z.string(),
  requireSso: z.boolean().nullable(),
  justInTime: z.boolean().nullable(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});
export type StoredSsoSettings = z.infer<typeof StoredSsoSettings>;
const SsoView = z.object({ stored: StoredSsoSettings.nullable(), requireSso: z.boolean(), justInTime: z.boolean() });

export const SsoSettingsContracts = {
  /** The stored settings (no secret) and the sign-in rules in effect. */
  accessSsoSettingsGet: defineRequest('access.sso-settings.get', z.object({ actor: Actor }), SsoView),
  /** Saves them (admins); the secret is sealed under the master key; audited as `sso-settings.updated` (never the secret). */
  accessSsoSettingsPut: defineRequest('access.sso-settings.put', z.object({ actor: Actor, input: SsoSettingsInput }), SsoView),
  /** Forgets them (admins): the environment's single sign-on, if any, applies again; audited as `sso-settings.deleted`. */
  accessSsoSettingsDelete: defineRequest('access.sso-settings.delete', z.object({ actor: Actor }), SsoView),
  /**
   * For the gateway's relying party only: the stored settings with the opened client secret, or
   * null when none are stored. The secret crosses NATS like a connector's credentials reach its
   * service: restrict this subject to the gateway's NATS user in production.
   */
  accessSsoSettingsResolve: defineRequest(
    'access.sso-settings.resolve',
    z.object({}),
    z
      .object({
        issuerUrl: z.string(),
        clientId: z.string(),
        clientSecret: z.string(),
        providerName: z.string(),
        groupsClaim: z.string(),
        scopes: z.string(),
        version: z.string(),
      })
      .nullable(),
  ),
};
