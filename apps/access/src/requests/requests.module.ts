import { DynamicModule, Module } from '@nestjs/common';
import { AccessEnv } from '@latchkey/config';
import { provideQueueHost } from '@latchkey/queues';
import { loadMasterKey, MasterKey } from '@latchkey/secrets';
import { FlowsModule } from '../flows/flows.module';
import { IdentityChangesModule } from '../identities/identity-changes.module';
import { AccessRequestEntity } from './access-request.entity';
import { AccessRequestsRepository } from './access-requests.repository';
import { ACCESS_SWEEP_SECONDS, AccessSweeper } from './access.sweeper';
import { GrantLifecycle } from './grant-lifecycle.service';
import { GrantProcessor } from './grant.processor';
import { GRANT_QUEUE, grantQueue, GrantQueue } from './grant.queue';
import { IdentityReview } from './identity-review.service';
import { RequestMetrics } from './request.metrics';
import { RequestsRpcController } from './requests.rpc.controller';
import { PENDING_EXPIRY_MINUTES, RequestsService } from './requests.service';

export const REQUEST_ENTITIES = [AccessRequestEntity];

@Module({})
export class RequestsModule {
  static forRoot(env: AccessEnv): DynamicModule {
    return {
      module: RequestsModule,
      imports: [FlowsModule, IdentityChangesModule],
      controllers: [RequestsRpcController],
      providers: [
        // Handed-out passwords wait encrypted until their one read.
        { provide: MasterKey, useValue: loadMasterKey(env) },
        provideQueueHost(GRANT_QUEUE, grantQueue, env.REDIS_URL),
        { provide: ACCESS_SWEEP_SECONDS, useValue: env.ACCESS_SWEEP_INTERVAL_SECONDS },
        { provide: PENDING_EXPIRY_MINUTES, useValue: env.ACCESS_PENDING_EXPIRY_MINUTES },
        AccessRequestsRepository,
        RequestMetrics,
        GrantQueue,
        GrantLifecycle,
        GrantProcessor,
        AccessSweeper,
        RequestsService,
        IdentityReview,
      ],
    };
  }
}
