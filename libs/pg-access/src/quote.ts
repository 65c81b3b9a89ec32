/** PostgreSQL's NAMEDATALEN is 64: identifiers hold at most 63 bytes and longer ones are silently truncated. */
export const MAX_IDENTIFIER_BYTES = 63;

// A lone UTF-16 surrogate cannot be encoded in UTF-8: the server would receive U+FFFD instead.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Quotes an identifier for SQL text: the one function the project uses for role, database,
 * schema and table names. Refuses what PostgreSQL would silently change (truncation) or cannot hold.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('Identifier must not be empty');
  if (name.includes('\0')) throw new Error('Identifier must not contain a NUL character');
  if (LONE_SURROGATE.test(name)) throw new Error('Identifier must be valid Unicode (it contains a lone surrogate)');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new Error(`Identifier is ${bytes} bytes in UTF-8; PostgreSQL allows at most ${MAX_IDENTIFIER_BYTES} and would truncate it`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a value that cannot be bound as a parameter (utility statements such as `ALTER ROLE ...
 * PASSWORD` or `VALID UNTIL`). Like the server's own quote_literal(): the E'' form, with
 * backslashes doubled, only when the value holds a backslash, so the result means the same
 * whatever standard_conforming_strings is.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('Literal must not contain a NUL character');
  if (LONE_SURROGATE.test(value)) throw new Error('Literal must be valid Unicode (it contains a lone surrogate)');
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}
