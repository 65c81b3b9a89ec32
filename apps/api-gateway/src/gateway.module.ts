import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GatewayEnv } from '@latchkey/config';
import { PersistenceModule } from '@latchkey/persistence';
import { AuthGuard, METRICS_TOKEN, PUBLIC_URL } from './auth/auth.guard';
import { AUTH_CACHE_MS, Authenticator } from './auth/authenticator';
import { OIDC_SETTINGS, OidcClient, oidcSettingsFrom } from './auth/oidc/oidc-client';
import { HTTP_CONTROLLERS } from './http/controllers';
import { HEALTH_TIMEOUT_MS } from './http/health.http.controller';
import { CreateGateway1764000000100 } from './migrations/1764000000100-CreateGateway';
import { DropApiTokens1764000000401 } from './migrations/1764000000401-DropApiTokens';

export const GATEWAY_SCHEMA = 'gateway';

/**
 * The HTTP API. Callers are authenticated by the access service (users, groups and tokens live
 * there); the gateway's own schema only runs its migrations (the token table it once had is dropped).
 */
@Module({})
export class GatewayModule {
  static forRoot(env: GatewayEnv): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: GATEWAY_SCHEMA,
          entities: [],
          migrations: [CreateGateway1764000000100, DropApiTokens1764000000401],
          poolSize: 1,
        }),
      ],
      controllers: HTTP_CONTROLLERS,
      providers: [
        { provide: AUTH_CACHE_MS, useValue: env.AUTH_CACHE_SECONDS * 1000 },
        { provide: HEALTH_TIMEOUT_MS, useValue: env.HEALTH_TIMEOUT_MS },
        { provide: PUBLIC_URL, useValue: env.LATCHKEY_PUBLIC_URL },
        { provide: METRICS_TOKEN, useValue: env.METRICS_TOKEN },
        { provide: APP_GUARD, useClass: AuthGuard },
        Authenticator,
        { provide: OIDC_SETTINGS, useValue: oidcSettingsFrom(env) },
        OidcClient,
      ],
    };
  }
}
