import { createHash } from 'node:crypto';
import type { Actor, AuditDiff } from '@latchkey/contracts';

/** The prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bumped if the serialization below ever changes; old entries keep verifying under their version. */
const HASH_FORMAT_VERSION = 1;

/** Every field an entry's hash covers (all but its id, which is only a handle). */
export interface HashedEntry {
  seq: number;
  at: Date;
  action: string;
  actor: Actor;
  targetType: string;
  targetId: string;
  targetName: string | null;
  diff: AuditDiff | null;
  details: Record<string, unknown> | null;
  sourceId: string | null;
  prevHash: string;
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as Array.prototype.sort does) at every depth
 * and undefined members left out, so that equal values always give the same text, whatever order
 * PostgreSQL's jsonb hands keys back in. Takes only JSON values (see `toJsonValue`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`not a JSON value: ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}

/** The exact text an entry's hash is computed over; `at` always as UTC ISO 8601 with milliseconds. */
export function canonicalEntry(entry: HashedEntry): string {
  return canonicalJson({
    v: HASH_FORMAT_VERSION,
    seq: entry.seq,
    at: entry.at.toISOString(),
    action: entry.action,
    // impersonatedBy and source only when present: entries written before them keep their hashes.
    actor: {
      type: entry.actor.type,
      id: entry.actor.id,
      email: entry.actor.email ?? null,
      impersonatedBy: entry.actor.impersonatedBy,
      source: entry.actor.source,
    },
    target: { type: entry.targetType, id: entry.targetId, name: entry.targetName },
    diff: entry.diff,
    details: entry.details,
    sourceId: entry.sourceId,
    prevHash: entry.prevHash,
  });
}

export function entryHash(entry: HashedEntry): string {
  return createHash('sha256').update(canonicalEntry(entry), 'utf8').digest('hex');
}

// NUL and lone surrogates cannot be stored in PostgreSQL text or jsonb.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A string as PostgreSQL will store it: unstorable code units become U+FFFD. */
export const storableText = (text: string): string => text.replace(UNSTORABLE, '\uFFFD');

/**
 * The value as it will come back out of a jsonb column: JSON semantics (dates as ISO strings,
 * undefined members dropped) and storable strings, so the hash computed before the insert is the
 * one recomputed from the stored row.
 */
export function toJsonValue(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : sanitize(JSON.parse(text));
}

function sanitize(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sanitize);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), sanitize(item)]));
}
