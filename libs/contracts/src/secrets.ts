import { z } from 'zod';
import { isCleanText, CLEAN_TEXT_RULE, text } from './text';

export const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)');

/** A secret as an admin gives it to the API. */
/** Secrets by reference: environment variables or a file on the connector's host. */
export const EnvSecretInput = z.object({ store: z.literal('env'), usernameVar: EnvVarName, passwordVar: EnvVarName }).strict();
export const FileSecretInput = z
  .object({
    store: z.literal('file'),
    path: z.string().startsWith('/', 'must be an absolute path').max(4096, 'must be at most 4096 characters').refine(isCleanText, CLEAN_TEXT_RULE),
  })
  .strict();

export const SecretInput = z.discriminatedUnion(
  'store',
  [
    z
      .object({
        store: z.literal('builtin'),
        username: text({ min: 1, max: 63 }),
        password: text({ min: 1, max: 1024 }),
      })
      .strict(),
    EnvSecretInput,
    FileSecretInput,
  ],
  { error: "must have store 'builtin', 'env' or 'file'" },
);
export type SecretInput = z.infer<typeof SecretInput>;

/** AES-256-GCM envelope: a random data key per secret, wrapped by the master key. */
export const EncryptedEnvelope = z.object({
  v: z.literal(1),
  alg: z.literal('AES-256-GCM'),
  /** Fingerprint of the master key that wrapped the data key. */
  kid: z.string(),
  /** Data key wrapped with the master key: iv.tag.ciphertext, base64 each. */
  wrappedKey: z.string(),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
});
export type EncryptedEnvelope = z.infer<typeof EncryptedEnvelope>;

/**
 * A secret as it is stored and sent to connectors: builtin secrets only ever travel encrypted;
 * env and file secrets are references resolved on the connector host when needed.
 */
export const SecretRef = z.discriminatedUnion('store', [
  z.object({ store: z.literal('builtin'), envelope: EncryptedEnvelope }),
  z.object({ store: z.literal('env'), usernameVar: z.string(), passwordVar: z.string() }),
  z.object({ store: z.literal('file'), path: z.string() }),
]);
export type SecretRef = z.infer<typeof SecretRef>;

/** What an API response shows of a secret: never a credential. */
export const SecretView = z.discriminatedUnion('store', [
  z.object({ store: z.literal('builtin') }),
  z.object({ store: z.literal('env'), usernameVar: z.string(), passwordVar: z.string() }),
  z.object({ store: z.literal('file'), path: z.string() }),
]);
export type SecretView = z.infer<typeof SecretView>;
