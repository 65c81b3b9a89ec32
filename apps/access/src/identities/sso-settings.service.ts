import { Inject, Injectable, Optional } from '@nestjs/common';
import type { z } from 'zod';
import { AppException, diffFields, ErrorCode } from '@latchkey/contracts';
import type { SsoSettingsInput } from '@latchkey/contracts';
import type { Actor, EncryptedEnvelope, StoredSsoSettings } from '@latchkey/contracts';
import { decryptSecret, encryptSecret, MasterKey } from '@latchkey/secrets';
import { AuditService } from '../audit/audit.service';
import { auditEntry, forbidden } from './identity-views';
import { SsoSettingsRepository, SsoSettingsRow } from './sso-settings.repository';

/** AUTH_REQUIRE_SSO and OIDC_JIT: the sign-in rules when the saved settings do not say. */
export const SSO_RULE_DEFAULTS = Symbol('SSO_RULE_DEFAULTS');
export interface SsoRules {
  requireSso: boolean;
  justInTime: boolean;
}
type ValidInput = z.output<typeof SsoSettingsInput>;

const AUDITED = ['issuerUrl', 'clientId', 'providerName', 'groupsClaim', 'scopes', 'requireSso', 'justInTime'] as const;
/** The purpose sealed with the secret: an envelope of another kind cannot pass for it. */
const PURPOSE = 'oidc-client-secret';

/** The settings as answered and audited: without the sealed secret and the version. */
const toStored = ({ clientSecret: _secret, version: _version, ...stored }: SsoSettingsRow): StoredSsoSettings => stored;

/**
 * Single sign-on set by an admin, kept in `access.sso_settings` (one row). The client secret is
 * sealed under the master key (the connector secrets' envelope) and opened only for the gateway's
 * relying party (`resolve`). `requireSso` and `justInTime`, when saved, override AUTH_REQUIRE_SSO
 * and OIDC_JIT for the password and SSO sign-ins of this service.
 */
@Injectable()
export class SsoSettingsService {
  constructor(
    private readonly settings: SsoSettingsRepository,
    private readonly audit: AuditService,
    @Inject(SSO_RULE_DEFAULTS) private readonly defaults: SsoRules,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  /** The sign-in rules in effect: saved values first, then the environment. */
  async rules(): Promise<SsoRules> {
    return this.rulesOf(await this.settings.find());
  }

  private rulesOf(row: SsoSettingsRow | null): SsoRules {
    return { requireSso: row?.requireSso ?? this.defaults.requireSso, justInTime: row?.justInTime ?? this.defaults.justInTime };
  }

  async view() {
    const row = await this.settings.find();
    return { stored: row ? toStored(row) : null, ...this.rulesOf(row) };
  }

  /** `input` was checked against SsoSettingsInput on its way here (gateway and contract). */
  async put(actor: Actor, input: ValidInput) {
    await this.requireAdmin(actor);
    const key = this.key();
    await this.settings.transaction(async (tx) => {
      const before = await this.settings.find(tx, true);
      if (!before && input.clientSecret === undefined)
        throw AppException.validation([{ field: 'clientSecret', rule: 'is required the first time single sign-on is saved' }]);
      const clientSecret: EncryptedEnvelope =
        input.clientSecret !== undefined ? encryptSecret({ username: PURPOSE, password: input.clientSecret }, key) : before!.clientSecret;
      const after = await this.settings.save(tx, {
        issuerUrl: input.issuerUrl,
        clientId: input.clientId,
        clientSecret,
        providerName: input.providerName,
        groupsClaim: input.groupsClaim,
        scopes: input.scopes,
        requireSso: input.requireSso ?? null,
        justInTime: input.justInTime ?? null,
        updatedBy: actorName(actor),
      });
      const diff = diffFields(before ? toStored(before) : null, toStored(after), AUDITED);
      await this.audit.append(
        auditEntry('sso-settings.updated', actor, { type: 'sso-settings', id: 'sso', name: input.providerName }, diff, {
          clientSecretChanged: input.clientSecret !== undefined,
        }),
        tx,
      );
    });
    return this.view();
  }

  async remove(actor: Actor) {
    await this.requireAdmin(actor);
    await this.settings.transaction(async (tx) => {
      const removed = await this.settings.delete(tx);
      if (removed)
        await this.audit.append(
          auditEntry(
            'sso-settings.deleted',
            actor,
            { type: 'sso-settings', id: 'sso', name: removed.providerName },
            diffFields(toStored(removed), null, AUDITED),
          ),
          tx,
        );
    });
    return this.view();
  }

  /** The stored settings with the opened secret, for the gateway; null when none are stored. */
  async resolve() {
    const row = await this.settings.find();
    if (!row) return null;
    const opened = decryptSecret(row.clientSecret, this.key());
    if (opened.username !== PURPOSE) throw new AppException(ErrorCode.Internal, 'The stored single sign-on secret is not an OIDC client secret envelope.');
    return { ...toStored(row), clientSecret: opened.password, version: row.version };
  }

  private key(): MasterKey {
    if (!this.masterKey)
      throw new AppException(
        ErrorCode.ServiceUnavailable,
        'The access service has no master key (LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE): the client secret cannot be sealed or opened.',
      );
    return this.masterKey;
  }

  private async requireAdmin(actor: Actor): Promise<void> {
    if (actor.type !== 'user') return;
    if (!(await this.settings.isActiveAdmin(actor.id))) throw forbidden('Only admins may change single sign-on.');
  }
}

const actorName = (actor: Actor): string | null => (actor.type === 'user' ? (actor.email ?? actor.id) : actor.type);
