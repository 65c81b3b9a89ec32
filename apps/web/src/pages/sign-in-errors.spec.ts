import { signInErrorMessage } from './sign-in-errors';

describe('signInErrorMessage', () => {
  it('says what to do for a person the provider knows but Latchkey does not', () => {
    expect(signInErrorMessage('OIDC_NO_ACCOUNT')).toMatch(/no account for your email.*administrator/);
  });

  it('never repeats text from the URL, and says nothing without a code', () => {
    expect(signInErrorMessage('<b>Call 555</b>')).toBe('Single sign-on did not complete. Try again.');
    expect(signInErrorMessage('toString')).toBe('Single sign-on did not complete. Try again.');
    expect(signInErrorMessage(null)).toBeNull();
  });
});
