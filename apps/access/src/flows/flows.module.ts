import { Module } from '@nestjs/common';
import { AccessFlowEntity } from './flow.entity';
import { FlowsRepository } from './flows.repository';
import { FlowsRpcController } from './flows.rpc.controller';
import { FlowsService } from './flows.service';
import { CreateAccessFlows1764000000420 } from './migrations/1764000000420-CreateAccessFlows';
import { FlowManagedBy1764000001710 } from './migrations/1764000001710-FlowManagedBy';
import { PeopleDirectorySql } from './people.directory';
import { RequestableService } from './requestable.service';

export const FLOW_ENTITIES = [AccessFlowEntity];
export const FLOW_MIGRATIONS = [CreateAccessFlows1764000000420, FlowManagedBy1764000001710];

@Module({
  controllers: [FlowsRpcController],
  providers: [FlowsRepository, FlowsService, PeopleDirectorySql, RequestableService],
  exports: [FlowsRepository, PeopleDirectorySql],
})
export class FlowsModule {}
