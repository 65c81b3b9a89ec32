import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { checkKeyringOpens, MASTER_KEY_MISMATCH, MasterKey } from '@latchkey/secrets';
import { IntegrationsRepository } from './integrations.repository';

/**
 * At start, tries the master key on the secrets already stored. A key that opens none of them (a
 * new `.latchkey/master.key` over an existing database, a mistyped LATCHKEY_MASTER_KEY) is said
 * loudly at once, not found later as connection tests failing one by one. The catalog still starts:
 * admins may put the right key back or enter those secrets again.
 */
@Injectable()
export class MasterKeyCheck implements OnApplicationBootstrap {
  constructor(
    private readonly integrations: IntegrationsRepository,
    private readonly masterKey: MasterKey,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  async onApplicationBootstrap() {
    const check = checkKeyringOpens(await this.integrations.sealedEnvelopes(), this.masterKey);
    if (check.unreadable === 0) return;
    this.logger.error(
      {
        ...check,
        loadedKids: this.masterKey.kids,
        fix: "set LATCHKEY_MASTER_KEY (or LATCHKEY_MASTER_KEY_FILE) to the key these secrets were sealed with, first or after the current one; or enter those integrations' secrets again",
      },
      MASTER_KEY_MISMATCH,
    );
  }
}
