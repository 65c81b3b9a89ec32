import { Injectable } from '@nestjs/common';
import { AppException, AuditEntryInput, AuditQuery, issuesFromZod } from '@latchkey/contracts';
import type { Actor, AuditDiff, AuditEntry, AuditVerifyReport } from '@latchkey/contracts';
import { REDACTED, isRedactedKey, redact } from '@latchkey/secrets';
import type { Tx } from '../control-database/transactions.repository';
import type { LinkedEntry } from './audit-entry.entity';
import { entryHash, GENESIS_HASH, storableText, toJsonValue } from './audit-hash';
import { AuditRepository } from './audit.repository';
import type { UnlinkedEntry } from './audit.repository';
import { AuditTrail } from './audit-trail';
import type { PreparedAudit } from './audit-trail';
import { AuditSequencer } from './audit-sequencer';

type ParsedEntry = ReturnType<typeof AuditEntryInput.parse>;
type ParsedQuery = ReturnType<typeof AuditQuery.parse>;

/** Entries read per round trip while verifying: memory stays flat however long the chain is. */
export const VERIFY_BATCH_SIZE = 1000;

/**
 * The diff and details as they are stored and hashed: secrets redacted by key name at any depth
 * (a diff field named like a secret keeps only that it changed), in plain JSON.
 */
export function redactEntry(entry: Pick<ParsedEntry, 'diff' | 'details'>): { diff: AuditDiff | null; details: Record<string, unknown> | null } {
  let diff: AuditDiff | null = null;
  if (entry.diff) {
    diff = {};
    for (const [field, change] of Object.entries(entry.diff)) {
      diff[field] = isRedactedKey(field)
        ? { ...('before' in change ? { before: REDACTED } : {}), ...('after' in change ? { after: REDACTED } : {}) }
        : (redact(change) as AuditDiff[string]);
    }
  }
  const details = entry.details ? (redact(entry.details) as Record<string, unknown>) : null;
  try {
    return { diff: toJsonValue(diff) as AuditDiff | null, details: toJsonValue(details) as Record<string, unknown> | null };
  } catch (err) {
    // BigInt and similar values have no JSON form.
    throw AppException.validation([{ field: 'details', rule: `must be JSON-serializable (${(err as Error).message})` }]);
  }
}

const encodeSeqToken = (seq: number): string => Buffer.from(JSON.stringify({ seq })).toString('base64url');

function decodeSeqToken(token: string): number {
  try {
    const { seq } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { seq?: unknown };
    if (Number.isSafeInteger(seq) && (seq as number) > 0) return seq as number;
  } catch {
    // not base64url JSON
  }
  throw AppException.validation([{ field: 'pageToken', rule: 'must be a token returned by a previous page' }]);
}

export function toAuditEntry(row: LinkedEntry): AuditEntry {
  return {
    id: row.id,
    seq: row.seq,
    at: row.at.toISOString(),
    action: row.action,
    actor: row.actor,
    targetType: row.targetType,
    targetId: row.targetId,
    ...(row.targetName !== null ? { targetName: row.targetName } : {}),
    ...(row.diff !== null ? { diff: row.diff } : {}),
    ...(row.details !== null ? { details: row.details } : {}),
    ...(row.sourceId !== null ? { sourceId: row.sourceId } : {}),
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

function parseEntry(entry: AuditEntryInput): ParsedEntry {
  const parsed = AuditEntryInput.safeParse(entry);
  if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error), 'The audit entry is not valid.');
  return parsed.data;
}

/** An entry as the log stores it before it is linked: secrets redacted, text storable. */
function unlinkedEntry(input: ParsedEntry): UnlinkedEntry {
  const { diff, details } = redactEntry(input);
  return {
    action: input.action,
    actor: {
      type: input.actor.type,
      id: storableText(input.actor.id),
      ...(input.actor.email !== undefined ? { email: storableText(input.actor.email) } : {}),
      ...(input.actor.impersonatedBy ? { impersonatedBy: toJsonValue(input.actor.impersonatedBy) as Actor['impersonatedBy'] } : {}),
      ...(input.actor.source ? { source: input.actor.source } : {}),
    },
    actorId: storableText(input.actor.id),
    targetType: storableText(input.targetType),
    targetId: storableText(input.targetId),
    targetName: input.targetName !== undefined ? storableText(input.targetName) : null,
    diff,
    details,
    sourceId: input.sourceId !== undefined ? storableText(input.sourceId) : null,
  };
}

/**
 * The append-only audit log of admin changes and request events, chained by SHA-256: each entry's
 * hash covers its content and the previous entry's hash, so editing or deleting a row shows up
 * in `verify`.
 */
@Injectable()
export class AuditService implements AuditTrail {
  constructor(
    private readonly repository: AuditRepository,
    private readonly sequencer: AuditSequencer,
  ) {}

  /**
   * Appends one entry. With `tx` (a transaction still open) the entry commits or rolls back with
   * the caller's change; without it, it gets its own transaction. The entry takes its place in the
   * chain (seq, hashes) after it commits, from the sequencer; appends do not wait on one another.
   * An entry whose `sourceId` is already recorded is not appended again; the recorded entry's id
   * is returned.
   */
  async append(entry: AuditEntryInput, tx?: Tx): Promise<{ id: string }> {
    return (await this.appendAll([entry], tx))[0]!;
  }

  /** Appends entries; they take their places in the chain in this order. As append otherwise. */
  async appendAll(entries: AuditEntryInput[], tx?: Tx): Promise<Array<{ id: string }>> {
    const rows = entries.map((entry) => unlinkedEntry(parseEntry(entry)));
    const appended = await this.repository.inTransaction(tx, async (m) => {
      const ids: Array<{ id: string }> = [];
      for (const row of rows) {
        const id = await this.repository.insertUnlinked(m, row);
        // Null only on a sourceId conflict: the entry recorded before.
        ids.push({ id: id ?? (await this.repository.idOfSource(m, row.sourceId!)) });
      }
      return ids;
    });
    this.sequencer.appended();
    return appended;
  }

  /** Entries checked and redacted as append stores them, for a repository's statement that writes them with its change (no sourceId). */
  prepare(entries: AuditEntryInput[]): PreparedAudit {
    const parsed = entries.map(parseEntry);
    if (parsed.some((e) => e.sourceId !== undefined)) throw new Error('a prepared audit entry has no sourceId: append it');
    return { entries: parsed, rows: parsed.map(unlinkedEntry) };
  }

  /** A repository's statement wrote prepared entries: the sequencer links them shortly. */
  written(): void {
    this.sequencer.appended();
  }

  /** Entries after `afterSeq`, oldest first: one sequencer at a time links entries, so seqs commit in order and a reader's last seq is a cursor that misses nothing. */
  async since(afterSeq: number, limit: number): Promise<{ items: AuditEntry[] }> {
    await this.sequencer.linkWaiting();
    return { items: (await this.repository.since(afterSeq, limit)).map(toAuditEntry) };
  }

  /** Newest first, filtered; the page token is the seq the next page starts below. */
  async list(query: ParsedQuery): Promise<{ items: AuditEntry[]; nextPageToken?: string }> {
    const from = query.from !== undefined ? new Date(query.from) : undefined;
    const to = query.to !== undefined ? new Date(query.to) : undefined;
    if (from && to && from > to) throw AppException.validation([{ field: 'from', rule: 'must not be after to' }]);
    const beforeSeq = query.pageToken !== undefined ? decodeSeqToken(query.pageToken) : undefined;
    await this.sequencer.linkWaiting();
    const rows = await this.repository.list(
      { action: query.action, actorId: query.actorId, targetType: query.targetType, targetId: query.targetId, from, to, beforeSeq },
      query.pageSize + 1,
    );
    const items = rows.slice(0, query.pageSize);
    const last = items.at(-1);
    return rows.length > query.pageSize && last
      ? { items: items.map(toAuditEntry), nextPageToken: encodeSeqToken(last.seq) }
      : { items: items.map(toAuditEntry) };
  }

  /**
   * Walks the whole chain in seq order, a batch at a time, and reports the first entry where it
   * breaks: a missing seq (a deleted row), content that no longer matches its hash (an edited
   * row), or a prevHash that is not the previous entry's hash (a replaced or re-hashed row).
   * Deleting the newest entries leaves an intact, shorter chain that no hash can expose, so the
   * chain's end is also compared with the head record each append moves in its own transaction.
   * (Someone who can rewrite the head as well can truncate undetected; anchoring the head outside
   * the database would close that.)
   */
  async verify(): Promise<AuditVerifyReport> {
    await this.sequencer.linkWaiting();
    return this.repository.inSnapshot(async (snapshot) => {
      const head = await snapshot.head();
      let checked = 0;
      let prev: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
      const broken = (seq: number, id: string | null, reason: string): AuditVerifyReport => ({ ok: false, checked, firstBroken: { seq, id, reason } });
      for (;;) {
        const batch = await snapshot.entriesAfter(prev.seq, VERIFY_BATCH_SIZE);
        for (const row of batch) {
          const expected = prev.seq + 1;
          if (row.seq !== expected) {
            const missing = row.seq - 1 === expected ? `entry ${expected} is missing` : `entries ${expected} to ${row.seq - 1} are missing`;
            return broken(expected, null, `${missing}: deleted from the log (the chain jumps from ${prev.seq} to ${row.seq})`);
          }
          if (entryHash(row) !== row.hash) {
            return broken(row.seq, row.id, `entry ${row.seq} was changed after it was written: its content no longer matches its hash`);
          }
          if (row.prevHash !== prev.hash) {
            return broken(
              row.seq,
              row.id,
              `entry ${row.seq} does not link to entry ${prev.seq}: its prevHash is not that entry's hash (an entry was replaced or re-hashed)`,
            );
          }
          prev = { seq: row.seq, hash: row.hash };
          checked += 1;
        }
        if (batch.length < VERIFY_BATCH_SIZE) break;
      }
      if (!head) return broken(prev.seq + 1, null, 'the head record (last seq and hash) is missing, so deletion of the newest entries cannot be ruled out');
      if (head.seq > prev.seq) {
        const missing = head.seq === prev.seq + 1 ? `entry ${head.seq} is missing` : `entries ${prev.seq + 1} to ${head.seq} are missing`;
        return broken(prev.seq + 1, null, `${missing}: the newest entries were deleted (the head record says the log ends at ${head.seq})`);
      }
      if (head.seq < prev.seq || head.hash !== prev.hash) {
        return broken(
          head.seq,
          null,
          `the head record (seq ${head.seq}) does not match the last entry (seq ${prev.seq}): the head or the last entry was changed`,
        );
      }
      return { ok: true, checked, firstBroken: null };
    });
  }
}
