import { DynamicModule, Module } from '@nestjs/common';
import { ProvisioningEnv } from '@latchkey/config';
import { AuditOutboxModule, PersistenceModule } from '@latchkey/persistence';
import { provideQueueHost } from '@latchkey/queues';
import { TargetDatabase } from '@latchkey/pg-access';
import { loadOptionalMasterKey, MasterKey } from '@latchkey/secrets';
import { DriftService } from './drift/drift.service';
import { GrantsRpcController } from './grants/grants.rpc.controller';
import { GrantsService } from './grants/grants.service';
import { PreflightRpcController } from './preflight/preflight.rpc.controller';
import { PreflightService } from './preflight/preflight.service';
import { RevocationMetrics } from './revocations/revocation.metrics';
import { RevocationProcessor } from './revocations/revocation.processor';
import { REVOCATION_QUEUE, revocationQueue, RevocationQueue } from './revocations/revocation.queue';
import { RevocationService } from './revocations/revocation.service';
import { Sweeper, SWEEPER_SETTINGS } from './revocations/sweeper';
import { GrantEntity, PersonalRoleEntity } from './store/grant.entity';
import { GrantsRepository } from './store/grants.repository';
import { GRANT_RETRY_DELAYS_MS, PROVISIONING_SETTINGS } from './target/provisioning-settings';
import { TargetResolver } from './target/target-resolver';
import { MIGRATIONS } from './migrations';

export const PROVISIONING_SCHEMA = 'provisioning';

@Module({})
export class ProvisioningModule {
  static forRoot(env: ProvisioningEnv): DynamicModule {
    // The master key opens builtin secrets and protects generated passwords.
    const masterKey = loadOptionalMasterKey(env);
    return {
      module: ProvisioningModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: PROVISIONING_SCHEMA,
          entities: [GrantEntity, PersonalRoleEntity],
          migrations: MIGRATIONS,
          // Above REVOCATION_CONCURRENCY: each revocation makes a few control-database queries.
          poolSize: 48,
        }),
        AuditOutboxModule.forService(PROVISIONING_SCHEMA),
      ],
      controllers: [PreflightRpcController, GrantsRpcController],
      providers: [
        provideQueueHost(
          REVOCATION_QUEUE,
          revocationQueue({ attempts: env.REVOCATION_ATTEMPTS, backoffMs: env.REVOCATION_BACKOFF_MS, concurrency: env.REVOCATION_CONCURRENCY }),
          env.REDIS_URL,
        ),
        ...(masterKey ? [{ provide: MasterKey, useValue: masterKey }] : []),
        {
          provide: PROVISIONING_SETTINGS,
          useValue: { graceSeconds: env.REVOCATION_GRACE_SECONDS, scramIterations: env.GRANT_SCRAM_ITERATIONS, grantRetryDelaysMs: GRANT_RETRY_DELAYS_MS },
        },
        {
          provide: SWEEPER_SETTINGS,
          useValue: {
            intervalSeconds: env.SWEEP_INTERVAL_SECONDS,
            overdueSeconds: env.REVOCATION_OVERDUE_SECONDS,
            grantingTimeoutSeconds: env.GRANTING_TIMEOUT_SECONDS,
            roleCleanupAfterSeconds: env.ROLE_CLEANUP_AFTER_SECONDS,
          },
        },
        { provide: TargetDatabase, useValue: new TargetDatabase() },
        PreflightService,
        TargetResolver,
        GrantsRepository,
        GrantsService,
        RevocationQueue,
        RevocationMetrics,
        RevocationService,
        RevocationProcessor,
        Sweeper,
        DriftService,
      ],
    };
  }
}
