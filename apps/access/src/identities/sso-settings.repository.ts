import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EncryptedEnvelope, StoredSsoSettings } from '@latchkey/contracts';
import { managerOf, managerOr, transactionOn, Tx } from '../control-database/transactions.repository';

/** The saved single sign-on settings with what only this service sees: the sealed secret and the row's version. */
export type SsoSettingsRow = StoredSsoSettings & { clientSecret: EncryptedEnvelope; version: string };

/** What a save writes (the secret already sealed). */
export interface SsoSettingsFields {
  issuerUrl: string;
  clientId: string;
  clientSecret: EncryptedEnvelope;
  providerName: string;
  groupsClaim: string;
  scopes: string;
  requireSso: boolean | null;
  justInTime: boolean | null;
  updatedBy: string | null;
}

type Raw = Record<string, any>;

const COLUMNS = 'issuer_url, client_id, client_secret, provider_name, groups_claim, scopes, require_sso, just_in_time, version, updated_at, updated_by';
const SELECT_ROW = 'SELECT ' + COLUMNS + ' FROM access.sso_settings WHERE id = 1';
const UPSERT_ROW =
  'INSERT INTO access.sso_settings AS s (id, issuer_url, client_id, client_secret, provider_name, groups_claim, scopes, require_sso, just_in_time, updated_by) ' +
  'VALUES (1, $1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9) ' +
  'ON CONFLICT (id) DO UPDATE SET issuer_url = $1, client_id = $2, client_secret = $3::jsonb, provider_name = $4, groups_claim = $5, scopes = $6, ' +
  'require_sso = $7, just_in_time = $8, updated_by = $9, updated_at = now(), version = gen_random_uuid() RETURNING ' +
  COLUMNS;
const DELETE_ROW = 'DELETE FROM access.sso_settings WHERE id = 1 RETURNING ' + COLUMNS;

const toRow = (r: Raw): SsoSettingsRow => ({
  issuerUrl: r.issuer_url,
  clientId: r.client_id,
  providerName: r.provider_name,
  groupsClaim: r.groups_claim,
  scopes: r.scopes,
  requireSso: r.require_sso,
  justInTime: r.just_in_time,
  updatedAt: (r.updated_at as Date).toISOString(),
  updatedBy: r.updated_by,
  clientSecret: r.client_secret,
  version: r.version,
});

/** The one row of `access.sso_settings`, and the admin check of whoever changes it. */
@Injectable()
export class SsoSettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return transactionOn(this.dataSource, work);
  }

  /** The saved settings, or null; `lock` (in a transaction): held until it ends, so saves queue up. */
  async find(tx?: Tx, lock = false): Promise<SsoSettingsRow | null> {
    const rows: Raw[] = await managerOr(this.dataSource, tx).query(lock ? SELECT_ROW + ' FOR UPDATE' : SELECT_ROW);
    return rows[0] ? toRow(rows[0]) : null;
  }

  async save(tx: Tx, f: SsoSettingsFields): Promise<SsoSettingsRow> {
    const values = [f.issuerUrl, f.clientId, JSON.stringify(f.clientSecret), f.providerName, f.groupsClaim, f.scopes, f.requireSso, f.justInTime, f.updatedBy];
    const [after] = (await managerOf(tx).query(UPSERT_ROW, values)) as Raw[];
    return toRow(after);
  }

  /** Deletes the settings and answers what they were (null when none were saved). */
  async delete(tx: Tx): Promise<SsoSettingsRow | null> {
    // TypeORM's postgres driver answers [rows, count] for DELETE ... RETURNING.
    const [rows] = (await managerOf(tx).query(DELETE_ROW)) as [Raw[], number];
    return rows[0] ? toRow(rows[0]) : null;
  }

  async isActiveAdmin(userId: string): Promise<boolean> {
    const rows: Raw[] = await this.dataSource.query("SELECT 1 FROM access.users WHERE id = $1 AND role = 'admin' AND active", [userId]);
    return rows.length > 0;
  }
}
