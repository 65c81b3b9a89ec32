import { z } from 'zod';
import { defineRequest } from './contract';
import { Page, listOf } from './integrations';
import { text, Timestamp } from './text';

/** The admin who made an API token for someone else: whatever is done with that token may be them. */
export const Impersonator = z.object({ id: z.string().min(1).max(200), email: z.string().max(320).optional() });
export type Impersonator = z.infer<typeof Impersonator>;

/** The tool a person used, when it says so: `cli` for `latchkey plan/apply` and the other commands. */
export const ActorSource = z.enum(['cli']);
export type ActorSource = z.infer<typeof ActorSource>;

/**
 * Who did something: a person (through their API token) or Latchkey itself (expiry, schedules).
 * `impersonatedBy`: the token used was made for this person by that admin, who may be the real actor.
 * `source`: the tool that made the call (the `latchkey` CLI sends `X-Latchkey-Client: cli`).
 */
export const Actor = z.object({
  type: z.enum(['user', 'system']),
  id: z.string().min(1).max(200),
  email: z.string().max(320).optional(),
  impersonatedBy: Impersonator.optional(),
  source: ActorSource.optional(),
});
export type Actor = z.infer<typeof Actor>;
export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'latchkey' };

/** A field's value before and after a change; secrets never appear (writers pass redacted views). */
export const AuditDiff = z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() }));
export type AuditDiff = z.infer<typeof AuditDiff>;

export const AuditEntryInput = z.object({
  /** `<target>.<past-tense verb>`, e.g. `integration.created`, `request.approved`, `rotation.failed`. */
  action: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/, 'must look like target.verb'),
  actor: Actor,
  targetType: z.string().min(1).max(64),
  targetId: z.string().min(1).max(200),
  targetName: z.string().max(500).optional(),
  diff: AuditDiff.optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  /** The writer's own id for this entry (an outbox row): appending it again records it once. */
  sourceId: z.string().min(1).max(200).optional(),
});
export type AuditEntryInput = z.input<typeof AuditEntryInput>;

export const AuditEntry = AuditEntryInput.extend({
  id: z.string().uuid(),
  seq: z.number().int(),
  at: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = z.object({
  action: text({ max: 100 }).optional(),
  actorId: text({ max: 200 }).optional(),
  targetType: text({ max: 64 }).optional(),
  targetId: text({ max: 200 }).optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  ...Page,
});
export type AuditQuery = z.input<typeof AuditQuery>;

export const AuditVerifyReport = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  /** The first entry whose link does not hold, and why. */
  firstBroken: z.object({ seq: z.number().int(), id: z.string().nullable(), reason: z.string() }).nullable(),
});
export type AuditVerifyReport = z.infer<typeof AuditVerifyReport>;

/** The audit log, kept by the access service. Other services append through `accessAuditAppend`. */
export const AuditContracts = {
  accessAuditAppend: defineRequest('access.audit.append', AuditEntryInput, z.object({ id: z.string().uuid() })),
  accessAuditList: defineRequest('access.audit.list', AuditQuery, listOf(AuditEntry)),
  accessAuditVerify: defineRequest('access.audit.verify', z.object({}).strict(), AuditVerifyReport),
  /**
   * Entries after `afterSeq`, oldest first. Entries get their seqs from one sequencer at a time,
   * after they commit, so seqs commit in order and without gaps: a reader that remembers the last
   * seq it handled misses nothing (the notifications service reads the log as its outbox this way).
   * Every entry committed before the call is in the chain when it answers.
   */
  accessAuditSince: defineRequest(
    'access.audit.since',
    z.object({ afterSeq: z.number().int().min(0), limit: z.number().int().min(1).max(1000).default(500) }).strict(),
    z.object({ items: z.array(AuditEntry) }),
  ),
} as const;

/**
 * The audit diff between two views of an object: the fields (all, or those named) whose JSON
 * differs, objects compared regardless of key order. Pass views that already hold no secret (e.g.
 * a SecretView); the audit log redacts by key name as well.
 */
export function diffFields(before: Record<string, unknown> | null, after: Record<string, unknown> | null, fields?: readonly string[]): AuditDiff {
  const diff: AuditDiff = {};
  for (const key of fields ?? new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    const b = before?.[key];
    const a = after?.[key];
    if (before && after && stableJson(b) === stableJson(a)) continue;
    diff[key] = { ...(before ? { before: b } : {}), ...(after ? { after: a } : {}) };
  }
  return diff;
}

const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  ) ?? 'undefined';
