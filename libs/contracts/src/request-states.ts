import type { AccessRequestStatus } from './access';
import { stateMachine } from './state-machine';

/**
 * How an access request moves. Approval or rejection decide a PENDING request; provisioning's
 * grant then carries it (GRANTED, or FAILED), and what happens to the grant ends it (the grant's
 * end is mirrored: EXPIRED, REVOKED, FAILED). A person's revocation ends a PENDING request at once
 * and sends the others through REVOKING while provisioning takes the grant back.
 */
const machine = stateMachine<AccessRequestStatus>('access request', {
  // PENDING waits for approvers; a flow without approvers approves at once.
  initial: ['PENDING', 'APPROVED'],
  transitions: {
    PENDING: ['APPROVED', 'REJECTED', 'EXPIRED', 'REVOKED'],
    // Its grant may end (expire, be revoked by an admin, fail) before the request learns it was made.
    APPROVED: ['GRANTED', 'REVOKING', 'EXPIRED', 'REVOKED', 'FAILED'],
    GRANTED: ['REVOKING', 'EXPIRED', 'REVOKED'],
    // A revocation asked before the grant was made ends with the grant it finds: expired, revoked or failed.
    REVOKING: ['EXPIRED', 'REVOKED', 'FAILED'],
    EXPIRED: [],
    REVOKED: [],
    REJECTED: [],
    FAILED: [],
  },
});

export const RequestStates = {
  ...machine,
  /** Nothing more happens to the request. */
  ENDED: ['EXPIRED', 'REVOKED', 'REJECTED', 'FAILED'] as readonly AccessRequestStatus[],
  /** Holds access or may yet: the requester or an admin can still take it back (revoke), and so can an identity change. */
  REVOCABLE: ['PENDING', 'APPROVED', 'GRANTED'] as readonly AccessRequestStatus[],
  /** Latchkey owes provisioning a step: a grant to make (APPROVED) or to take back (REVOKING). */
  AWAITING_PROVISIONING: ['APPROVED', 'REVOKING'] as readonly AccessRequestStatus[],
};
