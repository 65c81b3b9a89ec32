import { MAX_IDENTIFIER_BYTES, quoteIdent, quoteLiteral } from './quote';

describe('quoteIdent', () => {
  it.each([
    ['plain', '"plain"'],
    ['MixedCase', '"MixedCase"'],
    ['with space', '"with space"'],
    ['semi;colon; DROP TABLE users; --', '"semi;colon; DROP TABLE users; --"'],
    ['quo"te', '"quo""te"'],
    ['""', '""""""'],
    ["it's", '"it\'s"'],
    ['back\\slash', '"back\\slash"'],
    ['line\nbreak', '"line\nbreak"'],
    ['café 🔑', '"café 🔑"'],
  ])('quotes %j', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it('accepts exactly 63 bytes of multi-byte characters and refuses 64', () => {
    const at63 = 'é'.repeat(31) + 'a'; // 31 x 2 bytes + 1
    expect(Buffer.byteLength(at63)).toBe(MAX_IDENTIFIER_BYTES);
    expect(quoteIdent(at63)).toBe(`"${at63}"`);
    const at64 = 'é'.repeat(32);
    expect(() => quoteIdent(at64)).toThrow(/64 bytes.*at most 63/);
    expect(() => quoteIdent('🔑'.repeat(16))).toThrow(/64 bytes/);
    expect(quoteIdent('a'.repeat(59) + '🔑')).toBe(`"${'a'.repeat(59)}🔑"`);
  });

  it('counts bytes, not characters, and leaves the quotes out of the count', () => {
    expect(quoteIdent('"'.repeat(63))).toBe(`"${'""'.repeat(63)}"`);
    expect(() => quoteIdent('a'.repeat(64))).toThrow(/at most 63/);
  });

  it('refuses names PostgreSQL cannot hold', () => {
    expect(() => quoteIdent('')).toThrow(/empty/);
    expect(() => quoteIdent('nul\0byte')).toThrow(/NUL/);
    expect(() => quoteIdent('lone\uD800')).toThrow(/surrogate/);
  });
});

describe('quoteLiteral', () => {
  it.each([
    ['', "''"],
    ['secret', "'secret'"],
    ["it's", "'it''s'"],
    ["'; DROP ROLE x; --", "'''; DROP ROLE x; --'"],
    ['2030-01-01 00:00:00+00', "'2030-01-01 00:00:00+00'"],
    ['pässwörd 🔑', "'pässwörd 🔑'"],
  ])('quotes %j in the standard form', (value, quoted) => {
    expect(quoteLiteral(value)).toBe(quoted);
  });

  it('uses the E form with doubled backslashes when the value holds a backslash', () => {
    expect(quoteLiteral('a\\b')).toBe("E'a\\\\b'");
    expect(quoteLiteral("\\'")).toBe("E'\\\\'''");
  });

  it('refuses NUL, without echoing the value', () => {
    expect(() => quoteLiteral('pass\0word')).toThrow(/NUL/);
    expect(() => quoteLiteral('pass\0word')).not.toThrow(/pass/);
  });
});
