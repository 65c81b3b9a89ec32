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
  /** Password sign-in is turned off (AUTH_REQUIRE_SSO) for everyone but the break-glass admin. */
  SsoRequired: 'SSO_REQUIRED',
  /** A one-time link's token that is unknown, used or expired. */
  LinkInvalid: 'LINK_INVALID',
  /** The body is not in the one media type the API reads (application/json). */
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  /** The path exists, the method does not (the answer's `Allow` names those that do). */
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  ConnectorUnavailable: 'CONNECTOR_UNAVAILABLE',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  Timeout: 'TIMEOUT',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Whether trying the same call again can help, decided by code and never by message text:
 * `permanent` codes are the answer (the caller fixes the request, or gives up); `transient` ones
 * pass (a service or target back up, a throttle lifted). INTERNAL counts as transient: nobody knows
 * why it failed, and retries are bounded.
 */
export type ErrorPersistence = 'permanent' | 'transient';

/** Every code's persistence: a new code does not compile until it is decided here. */
export const ERROR_PERSISTENCE: Readonly<Record<ErrorCode, ErrorPersistence>> = {
  VALIDATION_FAILED: 'permanent',
  UNAUTHENTICATED: 'permanent',
  FORBIDDEN: 'permanent',
  NOT_FOUND: 'permanent',
  CONFLICT: 'permanent',
  INVALID_CREDENTIALS: 'permanent',
  TOO_MANY_ATTEMPTS: 'transient',
  CSRF_TOKEN_INVALID: 'permanent',
  SSO_REQUIRED: 'permanent',
  LINK_INVALID: 'permanent',
  UNSUPPORTED_MEDIA_TYPE: 'permanent',
  METHOD_NOT_ALLOWED: 'permanent',
  CONNECTOR_UNAVAILABLE: 'transient',
  SERVICE_UNAVAILABLE: 'transient',
  TIMEOUT: 'transient',
  INTERNAL: 'transient',
};

/** Retrying the same call gets the same answer. */
export const isPermanentError = (code: ErrorCode): boolean => ERROR_PERSISTENCE[code] === 'permanent';

export const ValidationIssue = z.object({
  /** Dotted path of the offending field, e.g. `config.port` or `integrationOwners.0.values`. */
  field: z.string(),
  /** The rule that was broken, stated so that a person can fix the input. */
  rule: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/**
 * Something saved that will not work as hoped (approvers who resolve to nobody, a permission the
 * connector cannot grant): the change is kept, and the answer says what to fix.
 */
export const Warning = z.object({
  /** Dotted path of the field the warning is about, as in ValidationIssue. */
  field: z.string(),
  message: z.string(),
});
export type Warning = z.infer<typeof Warning>;

export const ErrorEnvelope = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  details: z
    .object({ issues: z.array(ValidationIssue).optional() })
    .catchall(z.unknown())
    .optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** Turns zod issues into field/rule pairs; `prefix` re-roots paths (e.g. under `config`). */
export function issuesFromZod(error: z.ZodError, prefix: readonly (string | number)[] = []): ValidationIssue[] {
  const field = (path: readonly PropertyKey[]) => [...prefix, ...path].map(String).join('.') || '(body)';
  return error.issues.flatMap((issue): ValidationIssue[] => {
    // One issue per unknown field, named where it is, rather than one on the object.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: field([...issue.path, key]), rule: 'is not a known field' }));
    // A record key that breaks the key rule: the key is named, and so is the rule keys follow.
    if (issue.code === 'invalid_key') {
      const rules = [...new Set(issue.issues.map((i) => i.message))].join('; ');
      return [{ field: field(issue.path), rule: `is not an allowed key: keys ${rules.replace(/^(keys |tag keys )/, '')}` }];
    }
    return [{ field: field(issue.path), rule: issue.message }];
  });
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'an array',
  null: 'null',
  bigint: 'a whole number',
  date: 'a date',
};

const list = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
const plural = (n: number | bigint, word: string) => `${n} ${word}${Number(n) === 1 ? '' : 's'}`;

/**
 * zod's own issues in words for people ("is required", "must be a string") instead of its
 * defaults ("Invalid input: expected string, received undefined"). Messages a schema states
 * itself win over these; this is the one error map, installed when the contracts load.
 */
export function humanZodMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const min = issue.minimum as number | bigint;
      if (issue.origin === 'string') return Number(min) === 1 ? 'must not be empty' : `must be at least ${plural(min, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at least ${plural(min, 'item')}`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = issue.maximum as number | bigint;
      if (issue.origin === 'string') return `must be at most ${plural(max, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at most ${plural(max, 'item')}`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_format':
      switch (issue.format) {
        case 'uuid':
        case 'guid':
          return 'must be a UUID';
        case 'email':
          return 'must be an email address';
        case 'datetime':
          return 'must be an ISO 8601 date-time such as 2026-12-01T12:00:00Z';
        case 'starts_with':
          return `must start with ${(issue as { prefix?: string }).prefix ?? 'the given prefix'}`;
        case 'regex':
          return `must match the pattern ${issue.pattern ?? ''}`.trim();
        default:
          return `must be a valid ${issue.format}`;
      }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${list(issue.values)}` : `must be one of: ${list(issue.values)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `${issue.keys.length === 1 ? 'is' : 'are'} not known: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return 'does not match any of the allowed forms';
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has an element that is not allowed';
    default:
      return 'is not valid';
  }
}

z.config({ customError: humanZodMessage });
