import type { GrantStatus } from './provisioning';
import { stateMachine } from './state-machine';

/**
 * How a grant moves. It is made on the target (GRANTING -> ACTIVE, or FAILED and rolled back),
 * then taken back (REVOKING, STUCK once its retries ran out; the sweeper still retries) and ends
 * REVOKED or EXPIRED, whichever its revocation started as.
 */
const machine = stateMachine<GrantStatus>('grant', {
  initial: ['GRANTING'],
  transitions: {
    GRANTING: ['ACTIVE', 'FAILED', 'REVOKING'],
    ACTIVE: ['REVOKING'],
    REVOKING: ['STUCK', 'REVOKED', 'EXPIRED'],
    STUCK: ['REVOKED', 'EXPIRED'],
    REVOKED: [],
    EXPIRED: [],
    FAILED: [],
  },
});

const HOLDING_ACCESS: readonly GrantStatus[] = ['GRANTING', 'ACTIVE'];
const BEING_REVOKED: readonly GrantStatus[] = ['REVOKING', 'STUCK'];

export const GrantStates = {
  ...machine,
  /** Nothing is left on the target, nothing more happens. */
  ENDED: ['REVOKED', 'EXPIRED', 'FAILED'] as readonly GrantStatus[],
  /** Its memberships must stay on the target: another grant's revocation keeps them. */
  HOLDING_ACCESS,
  /** Its revocation is under way (STUCK: out of retries, still retried by the sweeper). */
  BEING_REVOKED,
  /** Still to be revoked: not ended. */
  UNFINISHED: [...HOLDING_ACCESS, ...BEING_REVOKED] as readonly GrantStatus[],
};
