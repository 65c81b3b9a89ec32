import { Module } from '@nestjs/common';
import { AccessFlowEntity } from './flow.entity';
import { FlowsRepository } from './flows.repository';
import { FlowsRpcController } from './flows.rpc.controller';
import { FlowsService } from './flows.service';
import { PeopleRepository } from './people.repository';
import { RequestableService } from './requestable.service';

export const FLOW_ENTITIES = [AccessFlowEntity];

@Module({
  controllers: [FlowsRpcController],
  providers: [FlowsRepository, FlowsService, PeopleRepository, RequestableService],
  exports: [FlowsRepository, PeopleRepository],
})
export class FlowsModule {}
