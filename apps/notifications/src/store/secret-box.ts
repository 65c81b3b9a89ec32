import { Injectable, Optional } from '@nestjs/common';
import { AppException, ErrorCode } from '@latchkey/contracts';
import type { EncryptedEnvelope } from '@latchkey/contracts';
import { decryptSecret, encryptSecret, MasterKey } from '@latchkey/secrets';

/**
 * Seals what must not be stored in the clear (webhook signing secrets, endpoint URLs that carry
 * tokens) in the same AES-256-GCM envelope as connector secrets, under the master key.
 */
@Injectable()
export class SecretBox {
  constructor(@Optional() private readonly key?: MasterKey) {}

  seal(purpose: string, value: string): EncryptedEnvelope {
    return encryptSecret({ username: purpose, password: value }, this.required());
  }

  open(envelope: EncryptedEnvelope): string {
    return decryptSecret(envelope, this.required()).password;
  }

  private required(): MasterKey {
    if (!this.key)
      throw new AppException(
        ErrorCode.ServiceUnavailable,
        'The notifications service has no master key (LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE): webhook secrets cannot be sealed or opened.',
      );
    return this.key;
  }
}
