import { AccessRequestStatus } from './access';
import { GrantStates } from './grant-states';
import { GrantStatus } from './provisioning';
import { RequestStates } from './request-states';
import { IllegalTransitionError, stateMachine } from './state-machine';

const pairs = <S extends string>(states: readonly S[]) => states.flatMap((from) => states.map((to) => [from, to] as const));
const sorted = <S extends string>(states: readonly S[]) => [...states].sort();

/** Every state a machine reaches from its initial states. */
function reachable<S extends string>(machine: { initial: readonly S[]; transitions: Readonly<Record<S, readonly S[]>> }): S[] {
  const seen = new Set<S>(machine.initial);
  for (const state of seen) for (const next of machine.transitions[state]) seen.add(next);
  return [...seen];
}

describe('stateMachine', () => {
  const traffic = stateMachine<'RED' | 'GREEN' | 'OFF'>('light', { initial: ['RED'], transitions: { RED: ['GREEN', 'OFF'], GREEN: ['RED', 'OFF'], OFF: [] } });

  it('answers the move the table has, and refuses one it lacks with a typed error naming both states', () => {
    expect(traffic.canTransition('RED', 'GREEN')).toBe(true);
    expect(traffic.transition('RED', 'GREEN')).toBe('GREEN');
    expect(traffic.canTransition('OFF', 'RED')).toBe(false);
    expect(() => traffic.transition('OFF', 'RED')).toThrow(IllegalTransitionError);
    expect(() => traffic.transition('OFF', 'RED')).toThrow('The light state machine has no move from OFF to RED.');
    const err = (() => {
      try {
        traffic.transition('RED', 'RED');
      } catch (e) {
        return e as IllegalTransitionError;
      }
    })();
    expect(err).toMatchObject({ machine: 'light', from: 'RED', to: 'RED' });
  });

  it('names the predecessors of a state: the guard of a conditional update', () => {
    expect(traffic.predecessorsOf('OFF')).toEqual(['RED', 'GREEN']);
    expect(traffic.predecessorsOf('RED')).toEqual(['GREEN']);
  });
});

describe('RequestStates', () => {
  const legal: Array<[AccessRequestStatus, AccessRequestStatus]> = [
    ['PENDING', 'APPROVED'],
    ['PENDING', 'REJECTED'],
    ['PENDING', 'EXPIRED'],
    ['PENDING', 'REVOKED'],
    ['APPROVED', 'GRANTED'],
    ['APPROVED', 'REVOKING'],
    ['APPROVED', 'EXPIRED'],
    ['APPROVED', 'REVOKED'],
    ['APPROVED', 'FAILED'],
    ['GRANTED', 'REVOKING'],
    ['GRANTED', 'EXPIRED'],
    ['GRANTED', 'REVOKED'],
    ['REVOKING', 'EXPIRED'],
    ['REVOKING', 'REVOKED'],
    ['REVOKING', 'FAILED'],
  ];
  const statuses = AccessRequestStatus.options;

  it.each(legal)('moves %s -> %s', (from, to) => {
    expect(RequestStates.canTransition(from, to)).toBe(true);
    expect(RequestStates.transition(from, to)).toBe(to);
  });

  it('refuses every other move, staying put included', () => {
    const refused = pairs(statuses).filter(([from, to]) => !legal.some(([f, t]) => f === from && t === to));
    expect(refused).toHaveLength(statuses.length ** 2 - legal.length);
    for (const [from, to] of refused) {
      expect(RequestStates.canTransition(from, to)).toBe(false);
      expect(() => RequestStates.transition(from, to)).toThrow(IllegalTransitionError);
    }
    // Among them the moves a bug would make: back from an end, a grant without approval, a decision after the grant.
    expect(() => RequestStates.transition('REJECTED', 'APPROVED')).toThrow('The access request state machine has no move from REJECTED to APPROVED.');
    expect(RequestStates.canTransition('PENDING', 'GRANTED')).toBe(false);
    expect(RequestStates.canTransition('GRANTED', 'REJECTED')).toBe(false);
  });

  it('has a row for every status, and reaches every status from where requests start', () => {
    expect(sorted(Object.keys(RequestStates.transitions))).toEqual(sorted(statuses));
    expect(sorted(reachable(RequestStates))).toEqual(sorted(statuses));
    expect(RequestStates.initial).toEqual(['PENDING', 'APPROVED']);
  });

  it('ENDED: exactly the statuses with no way out', () => {
    expect(sorted(RequestStates.ENDED)).toEqual(sorted(statuses.filter((s) => RequestStates.transitions[s].length === 0)));
  });

  it('REVOCABLE: not ended, not already on its way out, and every one has a move that starts or ends a revocation', () => {
    for (const s of RequestStates.REVOCABLE) {
      expect(RequestStates.ENDED).not.toContain(s);
      expect(RequestStates.canTransition(s, 'REVOKING') || RequestStates.canTransition(s, 'REVOKED')).toBe(true);
    }
    expect(RequestStates.REVOCABLE).not.toContain('REVOKING');
    // What a revocation starts from: every state that may move to REVOKING, and PENDING, which ends REVOKED at once.
    expect(sorted(RequestStates.REVOCABLE)).toEqual(sorted([...RequestStates.predecessorsOf('REVOKING'), 'PENDING']));
  });

  it('AWAITING_PROVISIONING: the live statuses that wait on a grant being made or taken back, not on a person', () => {
    expect(sorted(RequestStates.AWAITING_PROVISIONING)).toEqual(sorted(['APPROVED', 'REVOKING']));
    for (const s of RequestStates.AWAITING_PROVISIONING) {
      expect(RequestStates.ENDED).not.toContain(s);
      // A grant refused for good ends it: an approved request FAILED, one being revoked REVOKED.
      expect(RequestStates.canTransition(s, s === 'REVOKING' ? 'REVOKED' : 'FAILED')).toBe(true);
    }
  });
});

describe('GrantStates', () => {
  const legal: Array<[GrantStatus, GrantStatus]> = [
    ['GRANTING', 'ACTIVE'],
    ['GRANTING', 'FAILED'],
    ['GRANTING', 'REVOKING'],
    ['ACTIVE', 'REVOKING'],
    ['REVOKING', 'STUCK'],
    ['REVOKING', 'REVOKED'],
    ['REVOKING', 'EXPIRED'],
    ['STUCK', 'REVOKED'],
    ['STUCK', 'EXPIRED'],
  ];
  const statuses = GrantStatus.options;

  it.each(legal)('moves %s -> %s', (from, to) => {
    expect(GrantStates.canTransition(from, to)).toBe(true);
    expect(GrantStates.transition(from, to)).toBe(to);
  });

  it('refuses every other move, staying put included', () => {
    const refused = pairs(statuses).filter(([from, to]) => !legal.some(([f, t]) => f === from && t === to));
    expect(refused).toHaveLength(statuses.length ** 2 - legal.length);
    for (const [from, to] of refused) {
      expect(GrantStates.canTransition(from, to)).toBe(false);
      expect(() => GrantStates.transition(from, to)).toThrow(IllegalTransitionError);
    }
    // An ACTIVE grant never fails (it was made); a revocation never goes back to granting.
    expect(GrantStates.canTransition('ACTIVE', 'FAILED')).toBe(false);
    expect(GrantStates.canTransition('REVOKING', 'ACTIVE')).toBe(false);
  });

  it('has a row for every status, and reaches every status from GRANTING', () => {
    expect(sorted(Object.keys(GrantStates.transitions))).toEqual(sorted(statuses));
    expect(sorted(reachable(GrantStates))).toEqual(sorted(statuses));
    expect(GrantStates.initial).toEqual(['GRANTING']);
  });

  it('ENDED: exactly the statuses with no way out; UNFINISHED: all the others', () => {
    expect(sorted(GrantStates.ENDED)).toEqual(sorted(statuses.filter((s) => GrantStates.transitions[s].length === 0)));
    expect(sorted(GrantStates.UNFINISHED)).toEqual(sorted(statuses.filter((s) => !GrantStates.ENDED.includes(s))));
  });

  it('HOLDING_ACCESS, BEING_REVOKED and ENDED split the statuses, each set where the conditional updates need it', () => {
    expect(sorted([...GrantStates.HOLDING_ACCESS, ...GrantStates.BEING_REVOKED, ...GrantStates.ENDED])).toEqual(sorted(statuses));
    // A revocation begins from a grant that holds access, and ends from one being revoked (either end).
    expect(GrantStates.predecessorsOf('REVOKING')).toEqual(GrantStates.HOLDING_ACCESS);
    expect(GrantStates.predecessorsOf('REVOKED')).toEqual(GrantStates.BEING_REVOKED);
    expect(GrantStates.predecessorsOf('EXPIRED')).toEqual(GrantStates.BEING_REVOKED);
    // Made, failed, stuck: only from the state before.
    expect(GrantStates.predecessorsOf('ACTIVE')).toEqual(['GRANTING']);
    expect(GrantStates.predecessorsOf('FAILED')).toEqual(['GRANTING']);
    expect(GrantStates.predecessorsOf('STUCK')).toEqual(['REVOKING']);
  });
});
