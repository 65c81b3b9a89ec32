import { Body, Controller, Delete, Get, Inject, Put } from '@nestjs/common';
import { AppException, Contracts, ErrorCode, OIDC_DEFAULTS, SsoSettingsInput } from '@latchkey/contracts';
import type { SsoSettings, StoredSsoSettings } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access, PUBLIC_URL } from '../auth/auth.guard';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { OIDC_CALLBACK_PATH, OidcClient } from '../auth/oidc/oidc-client';
import { parseInput } from './validate';

/**
 * Single sign-on set by an admin, over the OIDC_* environment variables: issuer, client id and
 * secret (write-only: sealed under the master key by the access service, never answered), the
 * button's name, the groups claim, scopes, and the sign-in rules (require SSO, just-in-time
 * accounts). Answers say where the settings in effect come from and the redirect URI to register.
 */
@Controller('api/v1/settings/sso')
export class SsoSettingsHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly oidc: OidcClient,
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
  ) {}

  @Get()
  @Access('admin')
  async get(@CurrentCaller() caller: AuthenticatedCaller): Promise<SsoSettings> {
    return this.answer(await this.bus.request(Contracts.accessSsoSettingsGet, { actor: actorOf(caller) }));
  }

  @Put()
  @Access('admin')
  async put(@Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller): Promise<SsoSettings> {
    const input = parseInput(SsoSettingsInput, body);
    if (!this.publicUrl)
      throw new AppException(
        ErrorCode.Conflict,
        'Set LATCHKEY_PUBLIC_URL on the gateway first: the redirect URI to register at the provider is <LATCHKEY_PUBLIC_URL>/api/v1/auth/oidc/callback.',
      );
    const view = await this.bus.request(Contracts.accessSsoSettingsPut, { actor: actorOf(caller), input });
    this.oidc.forgetSaved();
    return this.answer(view);
  }

  @Delete()
  @Access('admin')
  async remove(@CurrentCaller() caller: AuthenticatedCaller): Promise<SsoSettings> {
    const view = await this.bus.request(Contracts.accessSsoSettingsDelete, { actor: actorOf(caller) });
    this.oidc.forgetSaved();
    return this.answer(view);
  }

  private answer(view: { stored: StoredSsoSettings | null; requireSso: boolean; justInTime: boolean }): SsoSettings {
    const redirectUri = this.publicUrl ? `${this.publicUrl}${OIDC_CALLBACK_PATH}` : null;
    const rules = { requireSso: view.requireSso, justInTime: view.justInTime, redirectUri };
    if (view.stored) {
      const { issuerUrl, clientId, providerName, groupsClaim, scopes, updatedAt, updatedBy } = view.stored;
      return { source: 'settings', issuerUrl, clientId, clientSecretSet: true, providerName, groupsClaim, scopes, ...rules, updatedAt, updatedBy };
    }
    const env = this.oidc.environment();
    if (env)
      return {
        source: 'environment',
        issuerUrl: env.issuer,
        clientId: env.clientId,
        clientSecretSet: true,
        providerName: env.providerName,
        groupsClaim: env.groupsClaim,
        scopes: env.scopes,
        ...rules,
        updatedAt: null,
        updatedBy: null,
      };
    return { source: 'none', issuerUrl: null, clientId: null, clientSecretSet: false, ...OIDC_DEFAULTS, ...rules, updatedAt: null, updatedBy: null };
  }
}
