import { diffFields } from './audit';

describe('diffFields', () => {
  it('lists the changed fields only, objects compared regardless of key order', () => {
    expect(diffFields({ a: 1, b: { x: 1, y: 2 }, c: [1] }, { a: 2, b: { y: 2, x: 1 }, c: [1] })).toEqual({ a: { before: 1, after: 2 } });
  });
  it('keeps only the named fields, and gives creations and deletions one side', () => {
    expect(diffFields(null, { a: 1, b: 2 }, ['a'])).toEqual({ a: { after: 1 } });
    expect(diffFields({ a: 1 }, null)).toEqual({ a: { before: 1 } });
    expect(diffFields({ a: 1 }, { b: 1 })).toEqual({ a: { before: 1, after: undefined }, b: { before: undefined, after: 1 } });
  });
});
