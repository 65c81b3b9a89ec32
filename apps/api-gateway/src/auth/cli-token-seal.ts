import { createCipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { CLI_SIGN_IN_INFO } from '@latchkey/contracts';

/** Thrown when the CLI's public key is not one X25519 can use (e.g. a low-order point). */
export class UnusableKeyError extends Error {}

/**
 * Seals `secret` to the CLI's one-time X25519 public key: an ephemeral key pair of our own, the
 * shared secret through HKDF-SHA256 (salt: both public keys; info: CLI_SIGN_IN_INFO) as an
 * AES-256-GCM key. Only the holder of the CLI's private key opens it (apps/cli/src/sign-in-key.ts).
 * Answers base64url of ephemeral public key (32) | IV (12) | tag (16) | ciphertext.
 */
export function sealToCliKey(publicKey: string, secret: string): string {
  let shared: Buffer;
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = Buffer.from(ephemeral.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  try {
    shared = diffieHellman({
      privateKey: ephemeral.privateKey,
      publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: publicKey }, format: 'jwk' }),
    });
  } catch {
    throw new UnusableKeyError('is not a usable X25519 public key');
  }
  if (shared.every((byte) => byte === 0)) throw new UnusableKeyError('is not a usable X25519 public key');
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, Buffer.from(publicKey, 'base64url')]), CLI_SIGN_IN_INFO, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([ephemeralRaw, iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}
