export { type Credentials, decryptSecret, encryptSecret, reencryptSecret } from './envelope';
export { MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, MasterKey, generateMasterKey, loadMasterKey, loadOptionalMasterKey, type MasterKeySettings } from './master-key';
export { checkKeyringOpens, type KeyringCheck, MASTER_KEY_MISMATCH } from './keyring-check';
export { REDACTED, REDACTED_KEYS, isRedactedKey, redact } from './redact';
export { type ResolveSecretContext, resolveSecret, toSecretRef, toSecretView } from './secret-resolver';
export { MasterKeyError, SecretDecryptionError, SecretResolutionError, SecretsError, SecretsErrorCode } from './secrets.exception';
