import { Tags } from './discovery';
import { issuesFromZod } from './errors';

describe('issuesFromZod', () => {
  it('names the field by its dotted path, under a prefix', () => {
    const parsed = Tags.safeParse({ owner: 'x'.repeat(257) });
    expect(parsed.success).toBe(false);
    expect(issuesFromZod(parsed.error!, ['tags'])).toEqual([{ field: 'tags.owner', rule: 'tag values are at most 256 characters' }]);
  });

  it("gives a broken record key the key schema's rule, not zod's generic words", () => {
    const parsed = Tags.safeParse({ 'bad key!': 'x' });
    expect(issuesFromZod(parsed.error!)).toEqual([{ field: 'bad key!', rule: 'tag keys are 1-128 letters, digits, _ . : / -' }]);
  });
});
