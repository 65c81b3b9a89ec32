import { z } from 'zod';

/** Codes that cross service boundaries. The gateway alone maps them to HTTP statuses. */
export const ErrorCode = {
  ValidationFailed: 'VALIDATION_FAILED',
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  /** Sign-in: the email or the password is wrong (one answer for both: no account enumeration). */
  InvalidCredentials: 'INVALID_CREDENTIALS',
  /** Sign-in throttled; `details.retryAfterSeconds` says when to try again. */
  TooManyAttempts: 'TOO_MANY_ATTEMPTS',
  /** A state-changing call authenticated by the session cookie without the session's X-CSRF-Token. */
  CsrfTokenInvalid: 'CSRF_TOKEN_INVALID',
  /** A one-time link's token that is unknown, used or expired. */
  LinkInvalid: 'LINK_INVALID',
  ConnectorUnavailable: 'CONNECTOR_UNAVAILABLE',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  Timeout: 'TIMEOUT',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ValidationIssue = z.object({
  /** Dotted path of the offending field, e.g. `config.port` or `integrationOwners.0.values`. */
  field: z.string(),
  /** The rule that was broken, stated so that a person can fix the input. */
  rule: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

export const ErrorEnvelope = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  details: z.object({ issues: z.array(ValidationIssue).optional() }).catchall(z.unknown()).optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** Turns zod issues into field/rule pairs; `prefix` re-roots paths (e.g. under `config`). */
export function issuesFromZod(error: z.ZodError, prefix: readonly (string | number)[] = []): ValidationIssue[] {
  return error.issues.map((issue) => ({
    field: [...prefix, ...issue.path].map(String).join('.') || '(body)',
    // A record key that breaks its schema: zod says "Invalid key in record"; the key schema's own words say why.
    rule: issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message,
  }));
}
