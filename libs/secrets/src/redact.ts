/**
 * Property names whose values are never logged. A key matches when, ignoring case, `-` and `_`,
 * it is one of these or ends with one: `newPassword`, `PGPASSWORD`, `x-api-key` and
 * `LATCHKEY_MASTER_KEY` are caught, while `passwordVar` or `passwordViewedAt` are kept.
 */
export const REDACTED_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  'credentials',
  'connectionString',
  'masterKey',
  'dataKey',
  'privateKey',
  'sslKey',
  'envelope',
  'wrappedKey',
  'ciphertext',
  'verifier',
];

export const REDACTED = '[REDACTED]';
const CIRCULAR = '[Circular]';

const normalize = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');
const suffixes = REDACTED_KEYS.map(normalize);

/** True when a value under this property name must not be logged. */
export function isRedactedKey(key: string): boolean {
  const normalized = normalize(key);
  return suffixes.some((suffix) => normalized.endsWith(suffix));
}

/**
 * A deep copy fit for a log line: values under REDACTED_KEYS become '[REDACTED]', binary data is
 * summarised, cycles become '[Circular]'. Errors keep their class, name, message and stack.
 */
export function redact(value: unknown): unknown {
  return copy(value, new Set());
}

function copy(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) return CIRCULAR;
  // Raw bytes are where key material lives; their content is never useful in a log.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[Binary: ${value.byteLength} bytes]`;
  if (value instanceof Date) return new Date(value.getTime());
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => copy(item, ancestors));
    if (value instanceof Map) {
      return new Map([...value].map(([k, v]) => [k, typeof k === 'string' && isRedactedKey(k) ? REDACTED : copy(v, ancestors)]));
    }
    if (value instanceof Set) return new Set([...value].map((item) => copy(item, ancestors)));
    if (value instanceof Error) return copyError(value, ancestors);
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = isRedactedKey(key) ? REDACTED : copy(item, ancestors);
    return result;
  } finally {
    ancestors.delete(value);
  }
}

function copyError(error: Error, ancestors: Set<object>): Error {
  const result = Object.create(Object.getPrototypeOf(error)) as Error;
  // Own properties include the non-enumerable message and stack; enumerability is kept as found.
  for (const key of Object.getOwnPropertyNames(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key)!;
    // Since Node 24 (V8 13) `stack` is an own accessor, not a value: read it through the error.
    const item = 'value' in descriptor ? descriptor.value : (error as unknown as Record<string, unknown>)[key];
    const kept = key === 'message' || key === 'stack' || key === 'name';
    Object.defineProperty(result, key, {
      value: kept ? item : isRedactedKey(key) ? REDACTED : copy(item, ancestors),
      enumerable: descriptor.enumerable,
      writable: true,
      configurable: true,
    });
  }
  return result;
}
