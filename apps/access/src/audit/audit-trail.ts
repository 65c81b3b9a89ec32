import type { AuditEntryInput } from '@latchkey/contracts';
import type { Tx } from '../control-database/transactions.repository';

/**
 * Appending to the audit log, as other features need it (AuditService; a unit test's fake): in the
 * caller's transaction `tx` so the entry commits or rolls back with the change, else in one of its own.
 */
export abstract class AuditTrail {
  abstract append(entry: AuditEntryInput, tx?: Tx): Promise<{ id: string }>;
  abstract appendAll(entries: AuditEntryInput[], tx?: Tx): Promise<Array<{ id: string }>>;
}
