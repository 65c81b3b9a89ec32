import type { AuditEntryInput } from '@latchkey/contracts';
import type { Tx } from '../control-database/transactions.repository';
import type { UnlinkedEntry } from './audit.repository';

/**
 * Entries made ready to be written by another repository's statement, in the same statement as
 * the change they record (no transaction needed): checked and redacted as `append` stores them.
 */
export interface PreparedAudit {
  /** As given, checked. */
  readonly entries: readonly AuditEntryInput[];
  /** As stored (`auditInsertFrom` writes them), in this order. */
  readonly rows: readonly UnlinkedEntry[];
}

/**
 * Appending to the audit log, as other features need it (AuditService; a unit test's fake): in the
 * caller's transaction `tx` so the entry commits or rolls back with the change, else in one of its own.
 * Or prepared, for a statement that writes the change and its entries at once; `written()` after it.
 */
export abstract class AuditTrail {
  abstract append(entry: AuditEntryInput, tx?: Tx): Promise<{ id: string }>;
  abstract appendAll(entries: AuditEntryInput[], tx?: Tx): Promise<Array<{ id: string }>>;
  abstract prepare(entries: AuditEntryInput[]): PreparedAudit;
  abstract written(): void;
}
