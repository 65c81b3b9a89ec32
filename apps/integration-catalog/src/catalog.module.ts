import { DynamicModule, Module } from '@nestjs/common';
import { CatalogEnv } from '@latchkey/config';
import { AuditOutboxModule, PersistenceModule } from '@latchkey/persistence';
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
import { MasterKeyCheck } from './integrations/master-key-check.service';
import { SecretVersionsRpcController } from './rotation/secret-versions.rpc.controller';
import { SecretVersionsService } from './rotation/secret-versions.service';
import { MIGRATIONS } from './migrations';

export const CATALOG_SCHEMA = 'catalog';

@Module({})
export class CatalogModule {
  static forRoot(env: CatalogEnv): DynamicModule {
    // Fails start-up with a clear message when no master key is configured.
    const masterKey = loadMasterKey(env);
    return {
      module: CatalogModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: CATALOG_SCHEMA,
          entities: [IntegrationEntity, ConnectorEntity],
          migrations: MIGRATIONS,
        }),
        AuditOutboxModule.forService(CATALOG_SCHEMA),
      ],
      controllers: [CatalogTypesRpcController, ConnectorsRpcController, IntegrationsRpcController, SecretVersionsRpcController],
      providers: [
        { provide: MasterKey, useValue: masterKey },
        { provide: CONNECTOR_OFFLINE_AFTER_MS, useValue: env.CONNECTOR_OFFLINE_AFTER_SECONDS * 1000 },
        ConnectorsRepository,
        ConnectorsService,
        IntegrationsRepository,
        IntegrationsService,
        MasterKeyCheck,
        SecretVersionsService,
      ],
    };
  }
}
