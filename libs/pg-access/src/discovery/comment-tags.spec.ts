import { parseCommentTags } from './comment-tags';

describe('parseCommentTags', () => {
  it('reads latchkey:key=value lines and leaves the prose', () => {
    expect(parseCommentTags('Invoices sent to customers.\nlatchkey:owner=payments\n  latchkey:pii=true  \nsee latchkey:not=a-tag')).toEqual({
      owner: 'payments',
      pii: 'true',
    });
  });

  it('keeps = and spaces inside a value, and lets a later line win', () => {
    expect(parseCommentTags('latchkey:query=a=b c\r\nlatchkey:owner=one\nlatchkey:owner=two')).toEqual({ query: 'a=b c', owner: 'two' });
  });

  it('accepts an empty value and ignores keys or values the API would refuse', () => {
    expect(parseCommentTags(`latchkey:empty=\nlatchkey:bad key=x\nlatchkey:k!=x\nlatchkey:long=${'v'.repeat(257)}\nlatchkey:ok/k.1:a-b_c=y`)).toEqual({
      empty: '',
      'ok/k.1:a-b_c': 'y',
    });
  });

  it('keeps __proto__ an ordinary tag', () => {
    const tags = parseCommentTags('latchkey:__proto__=x');
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.keys(tags)).toEqual(['__proto__']);
  });

  it('has no tags without a comment', () => {
    expect(parseCommentTags(null)).toEqual({});
    expect(parseCommentTags('')).toEqual({});
  });
});
