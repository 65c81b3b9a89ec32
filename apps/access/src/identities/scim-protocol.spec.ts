import { memberIds, memberPathId, pageOf, parseEqFilter, patchOperations, ScimError, scimBoolean } from './scim-protocol';

const USER_ATTRIBUTES = ['userName', 'externalId', 'emails.value'] as const;

describe('SCIM protocol details', () => {
  it('reads `attribute eq "value"` filters, schema-qualified or not, with escapes', () => {
    expect(parseEqFilter('userName eq "ada@example.com"', USER_ATTRIBUTES)).toEqual({ attribute: 'userName', value: 'ada@example.com' });
    expect(parseEqFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName EQ "a\\"b"', USER_ATTRIBUTES)).toEqual({ attribute: 'userName', value: 'a"b' });
    expect(parseEqFilter('emails.value eq "x@y.z"', USER_ATTRIBUTES)?.attribute).toBe('emails.value');
    expect(parseEqFilter(undefined, USER_ATTRIBUTES)).toBeNull();
  });

  it('refuses other filters with 400 invalidFilter', () => {
    for (const filter of ['userName co "ada"', 'title eq "x"', 'userName eq ada', 'userName eq "a" and active eq true']) {
      try {
        parseEqFilter(filter, USER_ATTRIBUTES);
        throw new Error(`accepted ${filter}`);
      } catch (err) {
        expect(err).toBeInstanceOf(ScimError);
        expect((err as ScimError).body()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
      }
    }
  });

  it('clamps startIndex and count as RFC 7644 says', () => {
    expect(pageOf({}, 200)).toEqual({ startIndex: 1, offset: 0, count: 200 });
    expect(pageOf({ startIndex: '0', count: '-3' }, 200)).toEqual({ startIndex: 1, offset: 0, count: 0 });
    expect(pageOf({ startIndex: '11', count: '5000' }, 200)).toEqual({ startIndex: 11, offset: 10, count: 200 });
  });

  it("irons out Entra's PATCH quirks: PascalCase ops and boolean strings", () => {
    expect(patchOperations({ Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).toEqual([{ op: 'replace', path: 'active', value: 'False' }]);
    expect(scimBoolean('False', 'active')).toBe(false);
    expect(scimBoolean(true, 'active')).toBe(true);
    expect(() => scimBoolean('nope', 'active')).toThrow(ScimError);
    expect(() => patchOperations({ Operations: [] })).toThrow(/Operations/);
    expect(() => patchOperations({ Operations: [{ op: 'remove' }] })).toThrow(/path/);
    expect(() => patchOperations({ Operations: [{ op: 'move', path: 'x' }] })).toThrow(/add, replace or remove/);
  });

  it('reads member ids from values and paths', () => {
    expect(memberIds([{ value: 'a' }, 'b'])).toEqual(['a', 'b']);
    expect(memberIds(undefined)).toEqual([]);
    expect(memberPathId('members')).toBeNull();
    expect(memberPathId('members[value eq "u-1"]')).toBe('u-1');
    expect(() => memberPathId('members[display eq "x"]')).toThrow(ScimError);
  });
});
