import type { AccessFlow, Approvers, Caller, Integration, Permission, RequestableFlow, RequestableItem, Resource, TargetSelection } from '@latchkey/contracts';
import { describeTimeframe, inTimeframe, requestorMatches, targetCovers } from './flow-matching';

/** The active flows whose requestors include the caller: everything they may ask for comes from these. */
export const flowsOfferedTo = (flows: AccessFlow[], caller: Caller) => flows.filter((flow) => flow.active && requestorMatches(flow, caller));

/** The flows' targets as discovery selects resources with them (permissions are checked afterwards). */
export const selectionsOf = (flows: Array<Pick<AccessFlow, 'targets'>>): TargetSelection[] =>
  flows.flatMap((flow) => flow.targets.map(({ integrationId, resourceType, resources }) => ({ integrationId, resourceType, ...(resources ? { resources } : {}) })));

type OwnerFacts = Pick<Integration, 'integrationOwners' | 'resourceOwnerMappings'>;

/**
 * What the flows offer on one resource: each flow with the permissions it allows there (only those
 * the resource has), and the union of them. Null when no flow offers anything, so that a person
 * never sees a resource no flow offers them.
 */
export function requestableItem(resource: Resource, flows: AccessFlow[], integration: OwnerFacts | undefined, now: Date): RequestableItem | null {
  const offered: RequestableFlow[] = [];
  for (const flow of flows) {
    const permissions = resource.permissions.filter((p) => flow.targets.some((target) => targetCovers(target, resource, p)));
    if (permissions.length === 0) continue;
    offered.push({
      id: flow.id,
      name: flow.name,
      permissions,
      maxDurationMinutes: flow.maxDurationMinutes,
      approvalRequired: flow.approvers !== null,
      approvers: describeApprovers(flow.approvers, resource, integration),
      justificationRequired: flow.settings.justificationRequired,
      maxExtensions: flow.settings.maxExtensions,
      timeframe: flow.timeframe ? describeTimeframe(flow.timeframe) : null,
      availableNow: !flow.timeframe || inTimeframe(flow.timeframe, now),
    });
  }
  if (offered.length === 0) return null;
  const permissions = resource.permissions.filter((p: Permission) => offered.some((f) => f.permissions.includes(p)));
  return { resource, permissions, flows: offered.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)) };
}

/** Who approves, in words a requester understands; OWNER names the tag that picks the owner, or the fallback. */
export function describeApprovers(approvers: Approvers, resource: Pick<Resource, 'tags'>, integration: OwnerFacts | undefined): string {
  if (approvers === null) return 'automatic (no approval needed)';
  const parts = approvers.groups.map((group) => {
    if (group.type !== 'OWNER') return `${group.type} ${group.values!.join(', ')}`;
    const mapped = (integration?.resourceOwnerMappings ?? []).filter((m) => resource.tags[m.tagKey] !== undefined).map((m) => `${m.tagKey}=${resource.tags[m.tagKey]}`);
    if (mapped.length > 0) return `resource owner (tag ${mapped.join(', ')})`;
    const owners = (integration?.integrationOwners ?? []).map((o) => `${o.attribute} ${o.values.join(', ')}`);
    return owners.length > 0 ? `integration owner (${owners.join('; ')})` : 'integration owner (none set)';
  });
  return `${approvers.mode === 'ALL_OF' ? 'all of' : 'any of'}: ${parts.join('; ')}`;
}
