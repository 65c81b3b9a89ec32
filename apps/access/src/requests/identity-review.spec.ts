import type { AccessFlow } from '@latchkey/contracts';
import type { PersonNow } from '../flows/people.repository';
import { disqualification } from './identity-review.service';

const analysts = { requestors: { operator: 'OR', conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] } } as unknown as AccessFlow;
const person = (over: Partial<PersonNow> = {}): PersonNow => ({
  userId: '00000000-0000-4000-8000-000000000001',
  email: 'ana@example.com',
  role: 'user',
  groups: ['analysts'],
  attributes: {},
  active: true,
  ...over,
});
const r = { flowName: 'analysts read' };

describe('disqualification', () => {
  it('keeps a requester who still matches the flow', () => {
    expect(disqualification(person(), analysts, r)).toBeNull();
  });

  it('names a deleted or deactivated requester, whatever the flow', () => {
    expect(disqualification(null, analysts, r)).toBe('the requester was deleted');
    expect(disqualification(person({ active: false }), null, r)).toBe('the requester was deactivated');
  });

  it('names the flow whose requestors no longer include the person', () => {
    expect(disqualification(person({ groups: ['finance'] }), analysts, r)).toBe('the requester is no longer among the requestors of flow "analysts read"');
  });

  it('leaves requests of a deleted flow alone (not an identity matter)', () => {
    expect(disqualification(person({ groups: [] }), null, r)).toBeNull();
  });
});
