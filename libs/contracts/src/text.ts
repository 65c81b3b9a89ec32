import { z } from 'zod';

/**
 * The shared rules of every text and timestamp that crosses the edge. PostgreSQL refuses NUL in
 * text and jsonb, and a lone UTF-16 surrogate cannot be encoded as UTF-8 (it would be stored as
 * U+FFFD, a silent change); dates outside what PostgreSQL and JavaScript both hold, or an expiry
 * that the grace period pushes past them, overflow. Every input schema builds its strings and
 * timestamps from here, so the rule is stated once and a person reads it on a 400.
 */
export const CLEAN_TEXT_RULE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

const UNCLEAN = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const isCleanText = (value: string): boolean => !UNCLEAN.test(value);

/** A string without NUL or lone surrogates; `max` is required: every text field is bounded. */
export function text(options: { max: number; min?: number; trim?: boolean }) {
  let schema = z.string();
  if (options.trim) schema = schema.trim();
  if (options.min !== undefined) schema = schema.min(options.min, options.min === 1 ? 'must not be empty' : `must be at least ${options.min} characters`);
  return schema.max(options.max, `must be at most ${options.max} characters`).refine(isCleanText, CLEAN_TEXT_RULE);
}

/** Earliest and latest instants accepted: both PostgreSQL and JavaScript hold them, with room for any grace period or extension. */
export const TIMESTAMP_MIN = '1970-01-01T00:00:00Z';
export const TIMESTAMP_MAX = '9000-01-01T00:00:00Z';
const MIN_MS = Date.parse(TIMESTAMP_MIN);
const MAX_MS = Date.parse(TIMESTAMP_MAX);
export const TIMESTAMP_RANGE_RULE = `must be between ${TIMESTAMP_MIN.slice(0, 10)} and ${TIMESTAMP_MAX.slice(0, 10)}`;

/** An ISO 8601 date-time with an offset (`Z` or `+02:00`), within the accepted range. */
export const Timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-12-01T12:00:00Z' }).refine((v) => {
  const ms = Date.parse(v);
  // What is no date at all is the format's issue alone: one rule per field.
  return Number.isNaN(ms) || (ms >= MIN_MS && ms < MAX_MS);
}, TIMESTAMP_RANGE_RULE);

/** The longest a grant lasts at once (and the largest duration anywhere): a year. */
export const MAX_DURATION_MINUTES = 525_600;

/** A grant's expiry as a person gives it: later than now, and at most MAX_DURATION_MINUTES away. */
export const Expiry = Timestamp.refine(
  (v) => Date.parse(v) <= Date.now() + MAX_DURATION_MINUTES * 60_000,
  `must be at most ${MAX_DURATION_MINUTES} minutes (a year) from now`,
);

/** A whole number of minutes, 1 to MAX_DURATION_MINUTES. */
export const DurationMinutes = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_DURATION_MINUTES, `must be at most ${MAX_DURATION_MINUTES} (a year)`);
