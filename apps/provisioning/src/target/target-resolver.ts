import { Inject, Injectable, Optional } from '@nestjs/common';
import { AppException, Contracts, ErrorCode, ResponseOf } from '@latchkey/contracts';
import { MessageBus, SERVICE_INFO } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import type { PostgresConfig } from '@latchkey/config';
import { targetConnectionParams, type TargetConnectionParams } from '@latchkey/pg-access';
import { MasterKey } from '@latchkey/secrets';

export interface ResolvedTarget {
  params: TargetConnectionParams;
  config: PostgresConfig;
}

/** The catalog's answer is reused this long; the secret itself is resolved on every use. */
const TARGET_TTL_MS = 5_000;

/** Turns an integration id into connection parameters for this connector's worker. */
@Injectable()
export class TargetResolver {
  private readonly cache = new Map<string, { at: number; answer: Promise<ResponseOf<typeof Contracts.catalogIntegrationsTarget>> }>();

  constructor(
    private readonly bus: MessageBus,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  async resolve(integrationId: string): Promise<ResolvedTarget> {
    const { connectorId, target } = await this.lookup(integrationId);
    if (connectorId !== this.info.connectorId) {
      throw new AppException(ErrorCode.Conflict, `Integration ${integrationId} is served by connector "${connectorId}", not "${this.info.connectorId}".`);
    }
    return targetConnectionParams(target, { masterKey: this.masterKey, env: process.env, applicationName: 'latchkey-provisioning' });
  }

  /** The catalog's connector for an integration (validated per request; cached briefly). */
  async lookup(integrationId: string) {
    const cached = this.cache.get(integrationId);
    if (cached && Date.now() - cached.at < TARGET_TTL_MS) return cached.answer;
    const answer = this.bus.request(Contracts.catalogIntegrationsTarget, { id: integrationId });
    this.cache.set(integrationId, { at: Date.now(), answer });
    answer.catch(() => this.cache.delete(integrationId));
    return answer;
  }
}
