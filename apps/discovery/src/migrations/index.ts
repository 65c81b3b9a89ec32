import { CreateDiscovery1764000000300 } from './1764000000300-CreateDiscovery';
import { ResourceUnrequestableReason1764000000310 } from './1764000000310-ResourceUnrequestableReason';
import { DiscoveryAuditOutbox1764000000620 } from './1764000000620-DiscoveryAuditOutbox';

/** Every migration of this service, oldest first (TypeORM runs them by the timestamp in each name); tools/service-layout.spec.ts checks none is left out. */
export const MIGRATIONS = [CreateDiscovery1764000000300, ResourceUnrequestableReason1764000000310, DiscoveryAuditOutbox1764000000620];
