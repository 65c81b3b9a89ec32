import { SsoClaimsError, ssoIdentityFrom } from './oidc-claims';

const base = { iss: 'https://idp.example', sub: '00u1', aud: 'latchkey', exp: 1, iat: 1, nonce: 'n', email: 'Ada@Example.com', email_verified: true };

describe('mapping OIDC claims to a person', () => {
  it('takes email, name, groups from the configured claim and the other plain claims as attributes', () => {
    const identity = ssoIdentityFrom(
      { ...base, name: 'Ada', groups: ['analysts', 7, 'dba'], department: 'research', level: 3, remote: true, address: { country: 'UK' } },
      'groups',
    );
    expect(identity).toEqual({
      issuer: 'https://idp.example',
      subject: '00u1',
      email: 'ada@example.com',
      name: 'Ada',
      groups: ['analysts', 'dba'],
      attributes: { department: 'research', level: '3', remote: 'true' },
    });
  });

  it('reads a renamed or nested groups claim, or a single group, and builds a name from its parts', () => {
    expect(ssoIdentityFrom({ ...base, roles: 'analysts' }, 'roles').groups).toEqual(['analysts']);
    expect(ssoIdentityFrom({ ...base, realm_access: { roles: ['a', 'b'] } }, 'realm_access.roles').groups).toEqual(['a', 'b']);
    expect(ssoIdentityFrom({ ...base, given_name: 'Ada', family_name: 'King' }, 'groups').name).toBe('Ada King');
    expect(ssoIdentityFrom(base, 'groups').groups).toEqual([]);
  });

  it('refuses a missing or unverified email', () => {
    expect(() => ssoIdentityFrom({ ...base, email: undefined }, 'groups')).toThrow(SsoClaimsError);
    expect(() => ssoIdentityFrom({ ...base, email_verified: false }, 'groups')).toThrow(/not verified/);
  });
});
