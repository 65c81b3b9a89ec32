import { cliKeyCode, CliSignInInput } from './sign-in';

describe('the code `latchkey login` and its sign-in page both show', () => {
  it('is eight unambiguous characters taken from the key, the same for the same key', () => {
    const key = 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo';
    expect(cliKeyCode(key)).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(cliKeyCode(key)).toBe(cliKeyCode(key));
    expect(cliKeyCode(key)).not.toBe(cliKeyCode('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
    // Computed from the bytes as the CLI holds them (Buffer), whatever the browser's atob does.
    const bytes = Buffer.from(key, 'base64url');
    const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    const expected = [...bytes.subarray(0, 8)].map((b) => letters[b % 32]).join('');
    expect(cliKeyCode(key)).toBe(`${expected.slice(0, 4)}-${expected.slice(4)}`);
  });

  it('takes only a 32-byte key and a plain computer name', () => {
    expect(CliSignInInput.safeParse({ publicKey: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo', host: 'ada-laptop.local' }).success).toBe(true);
    expect(CliSignInInput.safeParse({ publicKey: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTm', host: 'x' }).success).toBe(false);
    expect(CliSignInInput.safeParse({ publicKey: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo', host: '<script>' }).success).toBe(false);
  });
});
