import { Global, Module } from '@nestjs/common';
import { AuditEntryEntity, AuditHeadEntity } from './audit-entry.entity';
import { AuditRepository } from './audit.repository';
import { AuditRpcController } from './audit.rpc.controller';
import { AuditSequencer } from './audit-sequencer';
import { AuditService } from './audit.service';
import { AuditTrail } from './audit-trail';

export const AUDIT_ENTITIES = [AuditEntryEntity, AuditHeadEntity];

/** Global: identities, flows and requests inject AuditService (or its AuditTrail side) to append in their own transactions. */
@Global()
@Module({
  controllers: [AuditRpcController],
  providers: [AuditRepository, AuditSequencer, AuditService, { provide: AuditTrail, useExisting: AuditService }],
  exports: [AuditService, AuditTrail],
})
export class AuditModule {}
