import { DynamicModule, Module } from '@nestjs/common';
import { AccessEnv } from '@latchkey/config';
import { PersistenceModule } from '@latchkey/persistence';
import { AUDIT_ENTITIES, AuditModule } from './audit/audit.module';
import { FLOW_ENTITIES, FlowsModule } from './flows/flows.module';
import { IDENTITY_ENTITIES, IdentitiesModule } from './identities/identities.module';
import { MIGRATIONS } from './migrations';
import { REQUEST_ENTITIES, RequestsModule } from './requests/requests.module';

export const ACCESS_SCHEMA = 'access';

/** Identities, access flows, access requests and the audit log; every table in the `access` schema. */
@Module({})
export class AccessModule {
  static forRoot(env: AccessEnv): DynamicModule {
    return {
      module: AccessModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: ACCESS_SCHEMA,
          entities: [...IDENTITY_ENTITIES, ...AUDIT_ENTITIES, ...FLOW_ENTITIES, ...REQUEST_ENTITIES],
          migrations: MIGRATIONS,
          poolSize: 16,
        }),
        AuditModule,
        IdentitiesModule.forRoot(env),
        FlowsModule,
        RequestsModule.forRoot(env),
      ],
    };
  }
}
