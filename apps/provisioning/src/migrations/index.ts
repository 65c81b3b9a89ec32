import { CreateProvisioning1764000000200 } from './1764000000200-CreateProvisioning';
import { RecordWhoRevoked1764000000210 } from './1764000000210-RecordWhoRevoked';
import { ProvisioningAuditOutbox1764000000610 } from './1764000000610-ProvisioningAuditOutbox';

/** Every migration of this service, oldest first (TypeORM runs them by the timestamp in each name); tools/service-layout.spec.ts checks none is left out. */
export const MIGRATIONS = [CreateProvisioning1764000000200, RecordWhoRevoked1764000000210, ProvisioningAuditOutbox1764000000610];
