import { CreateCatalog1764000000000 } from './1764000000000-CreateCatalog';
import { RotationAndAuditOutbox1764000000500 } from './1764000000500-RotationAndAuditOutbox';
import { IntegrationManagedBy1764000001700 } from './1764000001700-IntegrationManagedBy';

/** Every migration of this service, oldest first (TypeORM runs them by the timestamp in each name); tools/service-layout.spec.ts checks none is left out. */
export const MIGRATIONS = [CreateCatalog1764000000000, RotationAndAuditOutbox1764000000500, IntegrationManagedBy1764000001700];
