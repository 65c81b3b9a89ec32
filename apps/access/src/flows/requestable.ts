import type { AccessFlow, Approvers, Caller, Integration, Permission, RequestableFlow, RequestableItem, Resource, TargetSelection } from '@latchkey/contracts';
import { describeTimeframe, inTimeframe, requestorMatches, targetCovers } from './flow-matching';

/** The active flows whose requestors include the caller: everything they may ask for comes from these. */
export const flowsOfferedTo = (flows: AccessFlow[], caller: Caller) => flows.filter((flow) => flow.active && requestorMatches(flow, caller));

/** The flows' targets as discovery selects resources with them (permissions are checked afterwards). */
export const selectionsOf = (flows: AccessFlow[]): TargetSelection[] =>
  flows.flatMap((flow) => flow.targets.map(({ integrationId, resourceType, resources }) => ({ integrationId, resourceType, ...(resources ? { resources } : {}) })));

type OwnerFacts = Pick<Integration, 'integrationOwners' | 'resourceOwnerMappings'>;

/**
 * What the flows offer on one resource: each flow with the permissions it allows there (only those
 * the resource has), and the union of them. Null when no flow offers anything, so that a person
 * never sees a resource no flow offers them.
 */
export function requestableItem(resource: Resource, flows: AccessFlow[], integration: OwnerFacts | undefined, now: Date): RequestableItem | null {
  return offersOf(flows, now)(resource, integration);
}

/**
 * `requestableItem` for many resources: what does not depend on the resource (the flow's words, its
 * timeframe now, who approves unless the resource's owner does) is worked out once per flow.
 */
export function offersOf(flows: AccessFlow[], now: Date): (resource: Resource, integration: OwnerFacts | undefined) => RequestableItem | null {
  const offers = [...flows]
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((flow) => {
      const byOwner = flow.approvers?.groups.some((g) => g.type === 'OWNER') ?? false;
      const shown = {
        id: flow.id,
        name: flow.name,
        maxDurationMinutes: flow.maxDurationMinutes,
        approvalRequired: flow.approvers !== null,
        // Named users and groups are the same on every resource; an owner is looked up per resource.
        approvers: byOwner ? '' : describeApprovers(flow.approvers, { tags: {} }, undefined),
        justificationRequired: flow.settings.justificationRequired,
        maxExtensions: flow.settings.maxExtensions,
        timeframe: flow.timeframe ? describeTimeframe(flow.timeframe) : null,
        availableNow: !flow.timeframe || inTimeframe(flow.timeframe, now),
      };
      return { flow, byOwner, shown };
    });
  return (resource, integration) => {
    const offered: RequestableFlow[] = [];
    for (const { flow, byOwner, shown } of offers) {
      const permissions = resource.permissions.filter((p) => flow.targets.some((target) => targetCovers(target, resource, p)));
      if (permissions.length === 0) continue;
      offered.push({ ...shown, permissions, approvers: byOwner ? describeApprovers(flow.approvers, resource, integration) : shown.approvers });
    }
    if (offered.length === 0) return null;
    const permissions = resource.permissions.filter((p: Permission) => offered.some((f) => f.permissions.includes(p)));
    return { resource, permissions, flows: offered };
  };
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
