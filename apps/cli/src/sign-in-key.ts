import { createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CLI_SIGN_IN_INFO } from '@latchkey/contracts';

/** The one-time key pair of one `latchkey login`: the server seals the new token to its public half. */
export interface SignInKey {
  /** X25519 public key, 32 bytes in base64url: what the sign-in page sends the server. */
  publicKey: string;
  privateKey: KeyObject;
}

export function newSignInKey(): SignInKey {
  const pair = generateKeyPairSync('x25519');
  return { publicKey: pair.publicKey.export({ format: 'jwk' }).x!, privateKey: pair.privateKey };
}

/** Opens what the gateway sealed to `key` (apps/api-gateway/src/auth/cli-token-seal.ts); null when it was not sealed to it or was changed. */
export function openSealed(key: SignInKey, sealed: string): string | null {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 32 + 12 + 16 + 1) return null;
  try {
    const ephemeralRaw = raw.subarray(0, 32);
    const ephemeral = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ephemeralRaw.toString('base64url') }, format: 'jwk' });
    const shared = diffieHellman({ privateKey: key.privateKey, publicKey: ephemeral });
    const aesKey = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, Buffer.from(key.publicKey, 'base64url')]), CLI_SIGN_IN_INFO, 32));
    const decipher = createDecipheriv('aes-256-gcm', aesKey, raw.subarray(32, 44), { authTagLength: 16 });
    decipher.setAuthTag(raw.subarray(44, 60));
    return Buffer.concat([decipher.update(raw.subarray(60)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
