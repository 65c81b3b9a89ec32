import { DynamicModule, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogEnv } from '@latchkey/config';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createServiceDataSource, ensureDatabase, migrate } from '@latchkey/persistence';
import { loadMasterKey, MasterKey } from '@latchkey/secrets';
import { CatalogTypesRpcController } from './catalog-types.rpc.controller';
import { ConnectorEntity } from './connectors/connector.entity';
import { ConnectorsRepository } from './connectors/connectors.repository';
import { ConnectorsRpcController } from './connectors/connectors.rpc.controller';
import { CONNECTOR_OFFLINE_AFTER_MS, ConnectorsService } from './connectors/connectors.service';
import { IntegrationEntity } from './integrations/integration.entity';
import { IntegrationsRepository } from './integrations/integrations.repository';
import { IntegrationsRpcController } from './integrations/integrations.rpc.controller';
import { IntegrationsService } from './integrations/integrations.service';
import { CreateCatalog1764000000000 } from './migrations/1764000000000-CreateCatalog';

export const CATALOG_SCHEMA = 'catalog';

@Module({})
export class CatalogModule implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}

  static forRoot(env: CatalogEnv): DynamicModule {
    // Fails start-up with a clear message when no master key is configured.
    const masterKey = loadMasterKey({ LATCHKEY_MASTER_KEY: env.LATCHKEY_MASTER_KEY, LATCHKEY_MASTER_KEY_FILE: env.LATCHKEY_MASTER_KEY_FILE });
    return {
      module: CatalogModule,
      controllers: [CatalogTypesRpcController, ConnectorsRpcController, IntegrationsRpcController],
      providers: [
        {
          provide: DataSource,
          inject: [LOGGER],
          useFactory: async (logger: AppLogger) => {
            await ensureDatabase(env.LATCHKEY_DATABASE_URL);
            const dataSource = createServiceDataSource({
              url: env.LATCHKEY_DATABASE_URL,
              schema: CATALOG_SCHEMA,
              entities: [IntegrationEntity, ConnectorEntity],
              migrations: [CreateCatalog1764000000000],
            });
            const ran = await migrate(dataSource, CATALOG_SCHEMA);
            if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
            return dataSource;
          },
        },
        { provide: MasterKey, useValue: masterKey },
        { provide: CONNECTOR_OFFLINE_AFTER_MS, useValue: env.CONNECTOR_OFFLINE_AFTER_SECONDS * 1000 },
        ConnectorsRepository,
        ConnectorsService,
        IntegrationsRepository,
        IntegrationsService,
      ],
    };
  }

  async onApplicationShutdown() {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

