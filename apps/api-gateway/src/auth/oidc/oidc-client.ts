import { Inject, Injectable } from '@nestjs/common';
import type * as Oidc from 'openid-client';
import type { GatewayEnv } from '@latchkey/config';
import { Contracts } from '@latchkey/contracts';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { PUBLIC_URL } from '../auth.guard';
import { OIDC_FLOW_TTL_MS } from './oidc-flow';
import type { OidcFlow } from './oidc-flow';

/** Single sign-on from the OIDC_* environment variables (null when OIDC_ISSUER_URL is unset). */
export const OIDC_SETTINGS = Symbol('OIDC_SETTINGS');
/** How long a gateway trusts what it read of the saved settings: another replica's change reaches it within this. */
export const SSO_SETTINGS_TTL_MS = 10_000;

/** openid-client is ESM-only: loaded when single sign-on is first used (Node requires it fine; test runners need not). */
let library: Promise<typeof Oidc> | null = null;
const openidClient = (): Promise<typeof Oidc> => (library ??= import('openid-client'));
export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** Single sign-on as configured (saved by an admin, else the environment). The secret stays in the gateway. */
export interface OidcSettings {
  source: 'settings' | 'environment';
  /** Changes whenever the settings do: the provider's discovery is redone for a new version. */
  version: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  groupsClaim: string;
  providerName: string;
  scopes: string;
  redirectUri: string;
}

/** `openid` is always asked for. */
const withOpenId = (scopes: string): string => [...new Set(['openid', ...scopes.split(' ')])].join(' ');

export function oidcSettingsFrom(env: GatewayEnv): OidcSettings | null {
  if (!env.OIDC_ISSUER_URL || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET || !env.LATCHKEY_PUBLIC_URL) return null;
  return {
    source: 'environment',
    version: 'environment',
    issuer: env.OIDC_ISSUER_URL,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    groupsClaim: env.OIDC_GROUPS_CLAIM,
    providerName: env.OIDC_PROVIDER_NAME,
    scopes: withOpenId(env.OIDC_SCOPES),
    redirectUri: `${env.LATCHKEY_PUBLIC_URL}${OIDC_CALLBACK_PATH}`,
  };
}

/** Why a callback was refused, as the sign-in page shows it (`?error=`). */
export class OidcError extends Error {
  constructor(
    readonly code: 'OIDC_FLOW_INVALID' | 'OIDC_REFUSED' | 'OIDC_PROVIDER_ERROR' | 'OIDC_UNAVAILABLE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The relying party, through `openid-client` (certified): discovery (retried after a failure),
 * authorization code with PKCE (S256), state and nonce, and the ID token validated (signature
 * against the provider's JWKS, issuer, audience, expiry, nonce). Userinfo's claims are merged in
 * (providers put groups in one or the other).
 */
@Injectable()
export class OidcClient {
  private configuration: Promise<Oidc.Configuration> | null = null;
  private configurationVersion: string | null = null;
  private saved: { at: number; value: Promise<OidcSettings | null> } | null = null;

  constructor(
    @Inject(OIDC_SETTINGS) private readonly fromEnvironment: OidcSettings | null,
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
    private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /**
   * The single sign-on in effect: what an admin saved (read from the access service, kept
   * SSO_SETTINGS_TTL_MS), else the environment's, else null. Saved settings need
   * LATCHKEY_PUBLIC_URL for the redirect URI.
   */
  async current(): Promise<OidcSettings | null> {
    if (!this.saved || Date.now() - this.saved.at > SSO_SETTINGS_TTL_MS) {
      const value = this.bus.request(Contracts.accessSsoSettingsResolve, {}).then((stored): OidcSettings | null => {
        if (!stored) return null;
        if (!this.publicUrl) {
          this.logger.warn({}, 'single sign-on is saved but LATCHKEY_PUBLIC_URL is not set: the redirect URI is unknown, so it stays off');
          return null;
        }
        return {
          source: 'settings',
          version: stored.version,
          issuer: stored.issuerUrl,
          clientId: stored.clientId,
          clientSecret: stored.clientSecret,
          groupsClaim: stored.groupsClaim,
          providerName: stored.providerName,
          scopes: withOpenId(stored.scopes),
          redirectUri: `${this.publicUrl}${OIDC_CALLBACK_PATH}`,
        };
      });
      this.saved = { at: Date.now(), value };
      // A failed read is not kept: the next call asks again.
      value.catch(() => {
        if (this.saved?.value === value) this.saved = null;
      });
    }
    try {
      return (await this.saved.value) ?? this.fromEnvironment;
    } catch (err) {
      // The access service does not answer: sign-in cannot finish anyway; the environment's settings (if any) are shown meanwhile.
      this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'saved single sign-on settings unavailable');
      return this.fromEnvironment;
    }
  }

  /** The OIDC_* environment variables' single sign-on, or null. */
  environment(): OidcSettings | null {
    return this.fromEnvironment;
  }

  /** After this gateway saved or deleted the settings: the next call reads them again. */
  forgetSaved(): void {
    this.saved = null;
  }

  private discover(oidc: typeof Oidc, settings: OidcSettings): Promise<Oidc.Configuration> {
    if (this.configurationVersion !== settings.version) {
      this.configuration = null;
      this.configurationVersion = settings.version;
    }
    if (!this.configuration) {
      const issuer = new URL(settings.issuer);
      // A loopback or test provider over plain http is allowed only when configured so explicitly (an http issuer URL).
      const options = issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined;
      this.configuration = oidc.discovery(issuer, settings.clientId, undefined, oidc.ClientSecretPost(settings.clientSecret), options).then(
        (config) => {
          oidc.enableNonRepudiationChecks(config);
          return config;
        },
        (err: unknown) => {
          this.configuration = null;
          this.logger.warn({ issuer: settings.issuer, reason: err instanceof Error ? err.message : String(err) }, 'OIDC discovery failed');
          throw new OidcError('OIDC_UNAVAILABLE', 'The identity provider cannot be reached right now. Try again in a moment.');
        },
      );
    }
    return this.configuration;
  }

  /** Where to send the browser, and the flow to seal into the cookie. */
  async start(settings: OidcSettings, returnTo: string): Promise<{ url: string; flow: OidcFlow }> {
    const oidc = await openidClient();
    const config = await this.discover(oidc, settings);
    const flow: OidcFlow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo,
      expiresAt: Date.now() + OIDC_FLOW_TTL_MS,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: settings.redirectUri,
      scope: settings.scopes,
      response_type: 'code',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, flow };
  }

  /** The validated claims of the person, from the callback's URL (as the provider sent the browser to it). */
  async finish(settings: OidcSettings, callbackQuery: string, flow: OidcFlow): Promise<Record<string, unknown>> {
    const oidc = await openidClient();
    const config = await this.discover(oidc, settings);
    const current = new URL(settings.redirectUri);
    current.search = callbackQuery;
    let tokens: Awaited<ReturnType<typeof Oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.refusal(oidc, err);
    }
    const claims = tokens.claims();
    if (!claims) throw new OidcError('OIDC_REFUSED', 'The identity provider sent no ID token.');
    let userinfo: Record<string, unknown> = {};
    try {
      userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (err) {
      // The ID token alone is enough when userinfo is unavailable; its claims then decide.
      this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'OIDC userinfo unavailable; using the ID token claims only');
    }
    // The ID token's own claims win (they are signed); userinfo only adds.
    return { ...userinfo, ...claims };
  }

  private refusal(oidc: typeof Oidc, err: unknown): OidcError {
    const message = err instanceof Error ? err.message : String(err);
    // Which check failed (the ID token claim, e.g. nonce, or the response parameter, e.g. state), never a token.
    // openid-client wraps oauth4webapi's error, whose own cause names the claim or parameter.
    const inner = (err as { cause?: { message?: unknown; cause?: { claim?: unknown; parameter?: unknown } } })?.cause;
    const check = {
      ...(typeof inner?.message === 'string' ? { detail: inner.message } : {}),
      ...(typeof inner?.cause?.claim === 'string' ? { claim: inner.cause.claim } : {}),
      ...(typeof inner?.cause?.parameter === 'string' ? { parameter: inner.cause.parameter } : {}),
    };
    this.logger.warn({ reason: message, code: (err as { code?: string })?.code, error: (err as { error?: string })?.error, ...check }, 'OIDC sign-in refused');
    if (err instanceof oidc.AuthorizationResponseError) return new OidcError('OIDC_PROVIDER_ERROR', `The identity provider refused the sign-in: ${err.error}.`);
    return new OidcError('OIDC_REFUSED', `The identity provider's answer was refused: ${message}`);
  }
}
