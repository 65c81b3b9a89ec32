import { groupState, groupWithPeople } from './portal-words';
import type { PortalRequest } from './portal-words';

/**
 * A request's approver groups, each with who may approve for it and where it stands: the requester
 * and every approver see the same list, so under ALL_OF all know which groups approved and which are awaited.
 */
export function ApproverGroups({ request }: { request: PortalRequest }) {
  return (
    <>
      <p>{request.approvalMode === 'ALL_OF' ? 'Each group must approve.' : 'One approval from any group is enough.'}</p>
      <ul className="plain" aria-label="Approver groups">
        {request.approverGroups.map((g, i) => (
          <li key={i}>
            {groupWithPeople(g)}: <strong>{groupState(request, g)}</strong>
          </li>
        ))}
      </ul>
    </>
  );
}
