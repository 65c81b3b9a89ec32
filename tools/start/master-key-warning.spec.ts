import { MASTER_KEY_MISMATCH } from '@latchkey/secrets';
import { masterKeyWarning } from './master-key-warning';

describe('npm start: the master key warning', () => {
  it("frames the catalog's finding in !! lines, with the count and the way back", () => {
    const text = masterKeyWarning({ unreadable: 2, checked: 3 }, false);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('!'.repeat(78));
    expect(lines.at(-1)).toBe('!'.repeat(78));
    for (const line of lines) expect(line.startsWith('!!')).toBe(true);
    expect(text).toContain(MASTER_KEY_MISMATCH);
    expect(text).toContain('2 of 3 stored secrets');
    expect(text).toContain('put the old key back');
  });

  it('names the key npm start has just created when that is the cause', () => {
    expect(masterKeyWarning({ unreadable: 1, checked: 1 }, true)).toContain('npm start has just created a NEW key in .latchkey/master.key');
    expect(masterKeyWarning({ unreadable: 1, checked: 1 }, false)).not.toContain('just created');
  });
});
