import { mapSsoProfile } from './sso-sign-in.service';

describe("the provider's groups and claims as Latchkey holds them", () => {
  it('keeps valid group names once (any case) and valid attribute keys, and names what it left out', () => {
    const mapped = mapSsoProfile({
      issuer: 'https://idp.example',
      subject: 's',
      email: 'a@example.com',
      groups: ['analysts', 'Analysts', 'Data Analysts', 'dba'],
      attributes: { department: 'research', 'https://example.com/claims/x': 'y' },
    });
    expect(mapped).toEqual({
      groups: ['analysts', 'dba'],
      attributes: { department: 'research' },
      ignoredGroups: ['Data Analysts'],
      ignoredAttributes: ['https://example.com/claims/x'],
    });
  });
});
