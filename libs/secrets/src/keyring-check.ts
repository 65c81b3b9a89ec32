import type { EncryptedEnvelope } from '@latchkey/contracts';
import { decryptSecret } from './envelope';
import { MasterKey } from './master-key';

/**
 * The log message (and `npm start`'s warning) when the configured master key cannot open secrets
 * already stored: typically a new key (a fresh `.latchkey/master.key`) over an existing database.
 */
export const MASTER_KEY_MISMATCH = 'the master key cannot open secrets stored in the control database';

export interface KeyringCheck {
  /** Sealed secrets looked at. */
  checked: number;
  /** How many of them the keyring cannot open. */
  unreadable: number;
  /** Key ids (fingerprints) of the envelopes it cannot open, never key material. */
  unreadableKids: string[];
}

/**
 * Tries to open every envelope with the keyring (one per key id is enough: a key opens all or
 * none of its envelopes, barring tampering). Nothing decrypted leaves this function.
 */
export function checkKeyringOpens(envelopes: readonly EncryptedEnvelope[], key: MasterKey): KeyringCheck {
  const verdictByKid = new Map<string, boolean>();
  let unreadable = 0;
  for (const envelope of envelopes) {
    let opens = verdictByKid.get(envelope.kid);
    if (opens === undefined) {
      try {
        decryptSecret(envelope, key);
        opens = true;
      } catch {
        opens = false;
      }
      verdictByKid.set(envelope.kid, opens);
    }
    if (!opens) unreadable += 1;
  }
  return { checked: envelopes.length, unreadable, unreadableKids: [...verdictByKid].filter(([, opens]) => !opens).map(([kid]) => kid) };
}
