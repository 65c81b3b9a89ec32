/** Codes carried by every error this library throws; stable, so callers can branch on them. */
export const SecretsErrorCode = {
  MasterKeyMissing: 'MASTER_KEY_MISSING',
  MasterKeyInvalid: 'MASTER_KEY_INVALID',
  MasterKeyFileUnreadable: 'MASTER_KEY_FILE_UNREADABLE',
  MasterKeyConflict: 'MASTER_KEY_CONFLICT',
  EnvelopeInvalid: 'SECRET_ENVELOPE_INVALID',
  EnvelopeKeyUnknown: 'SECRET_ENVELOPE_KEY_UNKNOWN',
  DecryptionFailed: 'SECRET_DECRYPTION_FAILED',
  MasterKeyRequired: 'SECRET_MASTER_KEY_REQUIRED',
  EnvVarMissing: 'SECRET_ENV_VAR_MISSING',
  FileNotFound: 'SECRET_FILE_NOT_FOUND',
  FilePermissionDenied: 'SECRET_FILE_PERMISSION_DENIED',
  FileUnreadable: 'SECRET_FILE_UNREADABLE',
  FileNotJson: 'SECRET_FILE_NOT_JSON',
  FileInvalid: 'SECRET_FILE_INVALID',
  SourceForbidden: 'SECRET_SOURCE_FORBIDDEN',
} as const;
export type SecretsErrorCode = (typeof SecretsErrorCode)[keyof typeof SecretsErrorCode];

/** Base of every error here. Messages name variables, paths and key ids, never secret material. */
export abstract class SecretsError extends Error {
  constructor(
    readonly code: SecretsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The master key configuration is missing or wrong; raised at start-up. */
export class MasterKeyError extends SecretsError {}

/** An envelope could not be opened: malformed, tampered with, or sealed by a key not loaded. */
export class SecretDecryptionError extends SecretsError {}

/** A secret reference could not be turned into credentials (variable unset, file unreadable...). */
export class SecretResolutionError extends SecretsError {}
