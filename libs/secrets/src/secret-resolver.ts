import { readFile, realpath } from 'node:fs/promises';
import type { SecretInput, SecretRef, SecretView } from '@latchkey/contracts';
import { isLatchkeyFile, isLatchkeyVariable, LATCHKEY_FILE_RULE, LATCHKEY_VARIABLE_RULE, latchkeyKeyFiles } from '@latchkey/config';
import { Credentials, decryptSecret, encryptSecret } from './envelope';
import { MasterKey } from './master-key';
import { SecretResolutionError, SecretsErrorCode } from './secrets.exception';

export interface ResolveSecretContext {
  /** Needed for builtin secrets only. */
  masterKey?: MasterKey;
  /** Where env secrets are looked up; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** What is stored for a secret given to the API: builtin credentials encrypted, references as they are. */
export function toSecretRef(input: SecretInput, key: MasterKey): SecretRef {
  switch (input.store) {
    case 'builtin':
      return { store: 'builtin', envelope: encryptSecret({ username: input.username, password: input.password }, key) };
    case 'env':
      return { store: 'env', usernameVar: input.usernameVar, passwordVar: input.passwordVar };
    case 'file':
      return { store: 'file', path: input.path };
  }
}

/** What an API response may show of a stored secret: where it lives, never what it is. */
export function toSecretView(ref: SecretRef): SecretView {
  switch (ref.store) {
    case 'builtin':
      return { store: 'builtin' };
    case 'env':
      return { store: 'env', usernameVar: ref.usernameVar, passwordVar: ref.passwordVar };
    case 'file':
      return { store: 'file', path: ref.path };
  }
}

/**
 * The credentials a secret stands for, read when needed. Files are read on every call, never
 * cached, so a rotated Kubernetes secret mount is picked up at once.
 */
export async function resolveSecret(ref: SecretRef, ctx: ResolveSecretContext): Promise<Credentials> {
  switch (ref.store) {
    case 'builtin':
      if (ctx.masterKey === undefined) {
        throw new SecretResolutionError(
          SecretsErrorCode.MasterKeyRequired,
          'This secret is stored encrypted (store builtin) and no master key is loaded to decrypt it: set LATCHKEY_MASTER_KEY.',
        );
      }
      return decryptSecret(ref.envelope, ctx.masterKey);
    case 'env': {
      const env = ctx.env ?? process.env;
      return { username: readVar(env, ref.usernameVar, 'username'), password: readVar(env, ref.passwordVar, 'password') };
    }
    case 'file':
      return readCredentialsFile(ref.path, ctx.env ?? process.env);
  }
}

function readVar(env: Record<string, string | undefined>, name: string, role: string): string {
  // Checked here too: an integration saved before the rule, or a connector on another host.
  if (isLatchkeyVariable(name)) {
    throw new SecretResolutionError(SecretsErrorCode.SourceForbidden, `Environment variable ${name} (the ${role} of this secret) ${LATCHKEY_VARIABLE_RULE}.`);
  }
  const value = env[name];
  if (value === undefined || value === '') {
    throw new SecretResolutionError(
      SecretsErrorCode.EnvVarMissing,
      `Environment variable ${name} (the ${role} of this secret) is ${value === undefined ? 'not set' : 'empty'} on this host.`,
    );
  }
  return value;
}

/** The real path of a file (symlinks followed), or the path itself when it cannot be resolved. */
const realPathOf = (path: string): Promise<string> => realpath(path).catch(() => path);

async function readCredentialsFile(path: string, env: Record<string, string | undefined>): Promise<Credentials> {
  const fail = (code: SecretsErrorCode, problem: string): SecretResolutionError => new SecretResolutionError(code, `Secret file ${path}: ${problem}.`);
  // Real paths on both sides: a symlink to the master key file is the master key file.
  const [real, keyFiles] = await Promise.all([realPathOf(path), Promise.all(latchkeyKeyFiles(env).map(realPathOf))]);
  if (isLatchkeyFile(path, keyFiles) || isLatchkeyFile(real, keyFiles)) throw fail(SecretsErrorCode.SourceForbidden, LATCHKEY_FILE_RULE);
  let text: string;
  try {
    text = await readFile(real, 'utf8');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw fail(SecretsErrorCode.FileNotFound, 'not found');
    if (errno === 'EACCES' || errno === 'EPERM') throw fail(SecretsErrorCode.FilePermissionDenied, 'permission denied');
    if (errno === 'EISDIR') throw fail(SecretsErrorCode.FileUnreadable, 'is a directory, expected a JSON file');
    throw fail(SecretsErrorCode.FileUnreadable, `cannot be read (${errno ?? 'unknown error'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    // JSON.parse's own message quotes the text around the error: it must not reach a log.
    throw fail(SecretsErrorCode.FileNotJson, 'is not valid JSON; expected {"username": "...", "password": "..."}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(SecretsErrorCode.FileInvalid, 'must hold a JSON object {"username": "...", "password": "..."}');
  }
  const record = value as Record<string, unknown>;
  return { username: requireField(record, 'username', fail), password: requireField(record, 'password', fail) };
}

function requireField(
  record: Record<string, unknown>,
  field: keyof Credentials,
  fail: (code: SecretsErrorCode, problem: string) => SecretResolutionError,
): string {
  const value = record[field];
  if (value === undefined) throw fail(SecretsErrorCode.FileInvalid, `field "${field}" is missing`);
  if (typeof value !== 'string') throw fail(SecretsErrorCode.FileInvalid, `field "${field}" must be a string`);
  if (value === '') throw fail(SecretsErrorCode.FileInvalid, `field "${field}" is empty`);
  return value;
}
