import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { z } from 'zod';
import type { EntityManager } from 'typeorm';
import { AppException, diffFields, ErrorCode } from '@latchkey/contracts';
import type { SsoSettingsInput } from '@latchkey/contracts';
import type { Actor, EncryptedEnvelope, StoredSsoSettings } from '@latchkey/contracts';
import { decryptSecret, encryptSecret, MasterKey } from '@latchkey/secrets';
import { AuditService } from '../audit/audit.service';
import { auditEntry, forbidden } from './identity-views';

type Raw = Record<string, any>;

/** AUTH_REQUIRE_SSO and OIDC_JIT: the sign-in rules when the saved settings do not say. */
export const SSO_RULE_DEFAULTS = Symbol('SSO_RULE_DEFAULTS');
export interface SsoRules {
  requireSso: boolean;
  justInTime: boolean;
}
type ValidInput = z.output<typeof SsoSettingsInput>;

const COLUMNS = 'issuer_url, client_id, client_secret, provider_name, groups_claim, scopes, require_sso, just_in_time, version, updated_at, updated_by';
const SELECT_ROW = 'SELECT ' + COLUMNS + ' FROM access.sso_settings WHERE id = 1';
const UPSERT_ROW =
  'INSERT INTO access.sso_settings AS s (id, issuer_url, client_id, client_secret, provider_name, groups_claim, scopes, require_sso, just_in_time, updated_by) ' +
  'VALUES (1, $1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9) ' +
  'ON CONFLICT (id) DO UPDATE SET issuer_url = $1, client_id = $2, client_secret = $3::jsonb, provider_name = $4, groups_claim = $5, scopes = $6, ' +
  'require_sso = $7, just_in_time = $8, updated_by = $9, updated_at = now(), version = gen_random_uuid() RETURNING ' +
  COLUMNS;
const DELETE_ROW = 'DELETE FROM access.sso_settings WHERE id = 1 RETURNING ' + COLUMNS;
const AUDITED = ['issuerUrl', 'clientId', 'providerName', 'groupsClaim', 'scopes', 'requireSso', 'justInTime'] as const;
/** The purpose sealed with the secret: an envelope of another kind cannot pass for it. */
const PURPOSE = 'oidc-client-secret';

const toStored = (r: Raw): StoredSsoSettings => ({
  issuerUrl: r.issuer_url,
  clientId: r.client_id,
  providerName: r.provider_name,
  groupsClaim: r.groups_claim,
  scopes: r.scopes,
  requireSso: r.require_sso,
  justInTime: r.just_in_time,
  updatedAt: (r.updated_at as Date).toISOString(),
  updatedBy: r.updated_by,
});

/**
 * Single sign-on set by an admin, kept in `access.sso_settings` (one row). The client secret is
 * sealed under the master key (the connector secrets' envelope) and opened only for the gateway's
 * relying party (`resolve`). `requireSso` and `justInTime`, when saved, override AUTH_REQUIRE_SSO
 * and OIDC_JIT for the password and SSO sign-ins of this service.
 */
@Injectable()
export class SsoSettingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(SSO_RULE_DEFAULTS) private readonly defaults: SsoRules,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  private async row(m: EntityManager | DataSource = this.dataSource, lock = false): Promise<Raw | null> {
    const rows: Raw[] = await m.query(lock ? SELECT_ROW + ' FOR UPDATE' : SELECT_ROW);
    return rows[0] ?? null;
  }

  /** The sign-in rules in effect: saved values first, then the environment. */
  async rules(): Promise<SsoRules> {
    return this.rulesOf(await this.row());
  }

  private rulesOf(row: Raw | null): SsoRules {
    return { requireSso: row?.require_sso ?? this.defaults.requireSso, justInTime: row?.just_in_time ?? this.defaults.justInTime };
  }

  async view() {
    const row = await this.row();
    return { stored: row ? toStored(row) : null, ...this.rulesOf(row) };
  }

  /** `input` was checked against SsoSettingsInput on its way here (gateway and contract). */
  async put(actor: Actor, input: ValidInput) {
    await this.requireAdmin(actor);
    const key = this.key();
    await this.dataSource.transaction(async (m) => {
      const before = await this.row(m, true);
      if (!before && input.clientSecret === undefined) throw AppException.validation([{ field: 'clientSecret', rule: 'is required the first time single sign-on is saved' }]);
      const secret: EncryptedEnvelope = input.clientSecret !== undefined ? encryptSecret({ username: PURPOSE, password: input.clientSecret }, key) : before!.client_secret;
      const values = [input.issuerUrl, input.clientId, JSON.stringify(secret), input.providerName, input.groupsClaim, input.scopes, input.requireSso ?? null, input.justInTime ?? null, actorName(actor)];
      const [after] = (await m.query(UPSERT_ROW, values)) as Raw[];
      const diff = diffFields(before ? toStored(before) : null, toStored(after), AUDITED);
      await this.audit.append(auditEntry('sso-settings.updated', actor, { type: 'sso-settings', id: 'sso', name: input.providerName }, diff, { clientSecretChanged: input.clientSecret !== undefined }), m);
    });
    return this.view();
  }

  async remove(actor: Actor) {
    await this.requireAdmin(actor);
    await this.dataSource.transaction(async (m) => {
      // TypeORM's postgres driver answers [rows, count] for DELETE ... RETURNING.
      const [rows] = (await m.query(DELETE_ROW)) as [Raw[], number];
      if (rows[0]) await this.audit.append(auditEntry('sso-settings.deleted', actor, { type: 'sso-settings', id: 'sso', name: rows[0].provider_name }, diffFields(toStored(rows[0]), null, AUDITED)), m);
    });
    return this.view();
  }

  /** The stored settings with the opened secret, for the gateway; null when none are stored. */
  async resolve() {
    const row = await this.row();
    if (!row) return null;
    const opened = decryptSecret(row.client_secret as EncryptedEnvelope, this.key());
    if (opened.username !== PURPOSE) throw new AppException(ErrorCode.Internal, 'The stored single sign-on secret is not an OIDC client secret envelope.');
    return { ...toStored(row), clientSecret: opened.password, version: row.version as string };
  }

  private key(): MasterKey {
    if (!this.masterKey) throw new AppException(ErrorCode.ServiceUnavailable, 'The access service has no master key (LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE): the client secret cannot be sealed or opened.');
    return this.masterKey;
  }

  private async requireAdmin(actor: Actor): Promise<void> {
    if (actor.type !== 'user') return;
    const rows: Raw[] = await this.dataSource.query("SELECT 1 FROM access.users WHERE id = $1 AND role = 'admin' AND active", [actor.id]);
    if (rows.length === 0) throw forbidden('Only admins may change single sign-on.');
  }
}

const actorName = (actor: Actor): string | null => (actor.type === 'user' ? (actor.email ?? actor.id) : actor.type);
