import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GatewayEnv } from '@latchkey/config';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { PersistenceModule } from '@latchkey/persistence';
import { ApiTokenEntity } from './auth/api-token.entity';
import { ApiTokensRepository, generateToken } from './auth/api-tokens.repository';
import { AuthGuard } from './auth/auth.guard';
import { CatalogHttpController } from './http/catalog.http.controller';
import { DocsHttpController } from './http/docs.http.controller';
import { GrantsHttpController } from './http/grants.http.controller';
import { HEALTH_TIMEOUT_MS, HealthHttpController } from './http/health.http.controller';
import { IntegrationsHttpController } from './http/integrations.http.controller';
import { ResourcesHttpController } from './http/resources.http.controller';
import { CreateGateway1764000000100 } from './migrations/1764000000100-CreateGateway';

export const GATEWAY_SCHEMA = 'gateway';
const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

@Module({})
export class GatewayModule implements OnApplicationBootstrap {
  constructor(
    private readonly tokens: ApiTokensRepository,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string | undefined,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  static forRoot(env: GatewayEnv): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: GATEWAY_SCHEMA,
          entities: [ApiTokenEntity],
          migrations: [CreateGateway1764000000100],
          poolSize: 5,
        }),
      ],
      controllers: [HealthHttpController, DocsHttpController, CatalogHttpController, IntegrationsHttpController, GrantsHttpController, ResourcesHttpController],
      providers: [
        { provide: ADMIN_TOKEN, useValue: env.LATCHKEY_ADMIN_TOKEN },
        { provide: HEALTH_TIMEOUT_MS, useValue: env.HEALTH_TIMEOUT_MS },
        { provide: APP_GUARD, useClass: AuthGuard },
        ApiTokensRepository,
      ],
    };
  }

  /**
   * LATCHKEY_ADMIN_TOKEN becomes the admin token. Without it, the first start makes one and prints
   * it once on stdout (not in the JSON log); later starts keep it.
   */
  async onApplicationBootstrap() {
    if (this.adminToken) {
      await this.tokens.putSeed(this.adminToken);
      return;
    }
    if (await this.tokens.findSeed()) return;
    const token = generateToken();
    await this.tokens.putSeed(token);
    process.stdout.write(`\nLatchkey admin token (shown once; set LATCHKEY_ADMIN_TOKEN to choose your own):\n  ${token}\n\n`);
    this.logger.info('generated the admin token and printed it once on stdout');
  }
}
