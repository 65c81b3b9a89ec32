import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryEnv } from '@latchkey/config';
import { AuditOutboxModule, PersistenceModule } from '@latchkey/persistence';
import { provideQueueHost } from '@latchkey/queues';
import { TargetDatabase } from '@latchkey/pg-access';
import { loadOptionalMasterKey, MasterKey } from '@latchkey/secrets';
import { RefreshProcessor } from './refresh/refresh.processor';
import { REFRESH_INTERVAL_MS, REFRESH_QUEUE, refreshQueue, RefreshQueue } from './refresh/refresh.queue';
import { RefreshRpcController } from './refresh/refresh.rpc.controller';
import { RefreshTriggers } from './refresh/refresh-triggers.service';
import { RefreshService } from './refresh/refresh.service';
import { ResourcesRepository } from './resources/resources.repository';
import { ResourcesRpcController } from './resources/resources.rpc.controller';
import { ResourcesService } from './resources/resources.service';
import { MIGRATIONS } from './migrations';

export const DISCOVERY_SCHEMA = 'discovery';

@Module({})
export class DiscoveryModule {
  static forRoot(env: DiscoveryEnv): DynamicModule {
    // The master key is only needed to open builtin secrets; env and file secrets work without it.
    const masterKey = loadOptionalMasterKey(env);
    return {
      module: DiscoveryModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: DISCOVERY_SCHEMA,
          // Resources are written in bulk and read with keyset pages: plain SQL, no entities.
          entities: [],
          migrations: MIGRATIONS,
        }),
        AuditOutboxModule.forService(DISCOVERY_SCHEMA),
      ],
      controllers: [ResourcesRpcController, RefreshRpcController],
      providers: [
        provideQueueHost(REFRESH_QUEUE, refreshQueue, env.REDIS_URL),
        { provide: REFRESH_INTERVAL_MS, useValue: Math.round(env.DISCOVERY_REFRESH_MINUTES * 60_000) },
        ...(masterKey ? [{ provide: MasterKey, useValue: masterKey }] : []),
        { provide: TargetDatabase, useValue: new TargetDatabase() },
        ResourcesRepository,
        ResourcesService,
        RefreshQueue,
        RefreshService,
        RefreshTriggers,
        RefreshProcessor,
      ],
    };
  }
}
