import { randomBytes } from 'node:crypto';
import { encryptSecret } from './envelope';
import { checkKeyringOpens } from './keyring-check';
import { MasterKey } from './master-key';

const oldBytes = randomBytes(32);
const old = new MasterKey([oldBytes]);
const fresh = new MasterKey([randomBytes(32)]);
const sealed = (key: MasterKey) => encryptSecret({ username: 'latchkey_connector', password: 'not-in-any-answer' }, key);

describe('checkKeyringOpens', () => {
  it('finds the secrets a new key cannot open, by key id, without showing them', () => {
    const envelopes = [sealed(old), sealed(old), sealed(fresh)];
    const check = checkKeyringOpens(envelopes, fresh);
    expect(check).toEqual({ checked: 3, unreadable: 2, unreadableKids: [old.kid] });
    expect(JSON.stringify(check)).not.toContain('not-in-any-answer');
  });

  it('is satisfied by the key that sealed them, and by a keyring that still holds it', () => {
    expect(checkKeyringOpens([sealed(old)], old).unreadable).toBe(0);
    const rotated = new MasterKey([randomBytes(32), oldBytes]);
    expect(checkKeyringOpens([sealed(old), sealed(rotated)], rotated).unreadable).toBe(0);
    expect(checkKeyringOpens([], fresh)).toEqual({ checked: 0, unreadable: 0, unreadableKids: [] });
  });
});
