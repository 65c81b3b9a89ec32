import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GatewayEnv } from '@latchkey/config';
import { AuthGuard, METRICS_TOKEN, PUBLIC_URL } from './auth/auth.guard';
import { AUTH_CACHE_MS, Authenticator } from './auth/authenticator';
import { OIDC_SETTINGS, OidcClient, oidcSettingsFrom } from './auth/oidc/oidc-client';
import { HTTP_CONTROLLERS } from './http/controllers';
import { HEALTH_TIMEOUT_MS } from './http/health.http.controller';

/**
 * The HTTP API. Callers are authenticated by the access service (users, groups, tokens and sessions
 * live there): the gateway holds no state and no database connection, so its replicas are interchangeable.
 */
@Module({})
export class GatewayModule {
  static forRoot(env: GatewayEnv): DynamicModule {
    return {
      module: GatewayModule,
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
