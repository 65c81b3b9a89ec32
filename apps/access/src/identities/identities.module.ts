import { DynamicModule, Module } from '@nestjs/common';
import { AccessEnv } from '@latchkey/config';
import { ADMIN_BOOTSTRAP, AdminBootstrap } from './admin-bootstrap.service';
import { IdentitiesRepository } from './identities.repository';
import { IdentityChangesModule } from './identity-changes.module';
import { IdentitiesRpcController } from './identities.rpc.controller';
import { ScimRepository } from './scim.repository';
import { ScimRpcController } from './scim.rpc.controller';
import { ScimService } from './scim.service';
import { SignInRepository } from './sign-in.repository';
import { SignInRpcController } from './sign-in.rpc.controller';
import { SIGN_IN_OPTIONS, SignInService, signInOptionsFrom } from './sign-in.service';
import { SsoSignInService } from './sso-sign-in.service';
import { SsoSettingsRepository } from './sso-settings.repository';
import { SSO_RULE_DEFAULTS, SsoSettingsService } from './sso-settings.service';
import { loadOptionalMasterKey, MasterKey } from '@latchkey/secrets';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';

/** The identity tables are read and written with plain SQL (see the repositories): no entities. */
export const IDENTITY_ENTITIES: Function[] = [];

/**
 * Users, groups and API tokens; passwords, browser sessions and one-time links; the bootstrap admin. Exports UsersService and the repository for
 * flows and requests (requestors, approvers).
 */
@Module({})
export class IdentitiesModule {
  static forRoot(env: AccessEnv): DynamicModule {
    const masterKey = loadOptionalMasterKey(env);
    return {
      module: IdentitiesModule,
      imports: [IdentityChangesModule],
      controllers: [IdentitiesRpcController, SignInRpcController, ScimRpcController],
      providers: [
        { provide: ADMIN_BOOTSTRAP, useValue: { email: env.LATCHKEY_ADMIN_EMAIL, token: env.LATCHKEY_ADMIN_TOKEN } },
        { provide: SIGN_IN_OPTIONS, useValue: signInOptionsFrom(env) },
        { provide: SSO_RULE_DEFAULTS, useValue: { requireSso: env.AUTH_REQUIRE_SSO, justInTime: env.OIDC_JIT } },
        ...(masterKey ? [{ provide: MasterKey, useValue: masterKey }] : []),
        SsoSettingsRepository,
        SsoSettingsService,
        IdentitiesRepository,
        TokensRepository,
        SignInRepository,
        SignInService,
        SsoSignInService,
        ScimRepository,
        ScimService,
        UsersService,
        TokensService,
        AdminBootstrap,
      ],
      exports: [IdentitiesRepository, UsersService],
    };
  }
}
