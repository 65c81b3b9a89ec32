import { DynamicModule, Module } from '@nestjs/common';
import { AccessEnv } from '@latchkey/config';
import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { provideQueueHost } from '@latchkey/queues';
import { loadMasterKey, MasterKey } from '@latchkey/secrets';
import { PeopleDirectory } from '../flows/approvers';
import { FlowsModule } from '../flows/flows.module';
import { FlowsRepository } from '../flows/flows.repository';
import { PeopleRepository } from '../flows/people.repository';
import { IdentityChangesModule } from '../identities/identity-changes.module';
import { AccessRequestEntity } from './access-request.entity';
import { AccessRequestsRepository } from './access-requests.repository';
import { ACCESS_SWEEP_SECONDS, AccessSweeper } from './access.sweeper';
import { GrantLifecycle } from './grant-lifecycle.service';
import { GrantProcessor } from './grant.processor';
import { GRANT_QUEUE, grantQueue, GrantQueue } from './grant.queue';
import { IdentityReview } from './identity-review.service';
import { RecentResources } from './recent-resources';
import { RequestMetrics } from './request.metrics';
import { RequestsRpcController } from './requests.rpc.controller';
import { ActiveFlows, Bus, GrantJobs, RequestStore } from './requests.ports';
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
        // The orchestration depends on ports; these are the real things behind them.
        { provide: RequestStore, useExisting: AccessRequestsRepository },
        { provide: ActiveFlows, useExisting: FlowsRepository },
        { provide: PeopleDirectory, useExisting: PeopleRepository },
        { provide: GrantJobs, useExisting: GrantQueue },
        { provide: Bus, useExisting: MessageBus },
        {
          provide: RecentResources,
          inject: [MessageBus],
          useFactory: (bus: MessageBus) => {
            const recent = new RecentResources();
            bus.onEveryProcess(Contracts.discoveryResourcesChanged, ({ integrationId }) => recent.forgetIntegration(integrationId));
            bus.onEveryProcess(Contracts.catalogIntegrationChanged, ({ integrationId }) => recent.forgetIntegration(integrationId));
            bus.onEveryProcess(Contracts.discoveryResourceTagsChanged, ({ id }) => recent.forget(id));
            return recent;
          },
        },
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
