import type { AccessFlow, Approvers, Caller, FlowTarget, Integration, Permission, RequestablePage, Resource, TargetSelection } from '@latchkey/contracts';
import { describeTimeframe, inTimeframe, requestorMatches, targetCovers } from './flow-matching';

/** The active flows whose requestors include the caller: everything they may ask for comes from these. */
export const flowsOfferedTo = (flows: readonly AccessFlow[], caller: Caller) => flows.filter((flow) => flow.active && requestorMatches(flow, caller));

/** The flows' targets as discovery selects resources with them (permissions are checked afterwards), each once. */
export const selectionsOf = (flows: Array<Pick<AccessFlow, 'targets'>>): TargetSelection[] => {
  const selections = flows.flatMap((flow) =>
    flow.targets.map(({ integrationId, resourceType, resources }) => ({ integrationId, resourceType, ...(resources ? { resources } : {}) })),
  );
  return [...new Map(selections.map((s) => [JSON.stringify(s), s])).values()];
};

/** Integrations whose owners may approve a flow's requests (OWNER): the only ones whose settings the answer needs. */
export const ownerIntegrationsOf = (flows: AccessFlow[]): string[] => [
  ...new Set(flows.filter((flow) => flow.approvers?.groups.some((g) => g.type === 'OWNER')).flatMap((flow) => flow.targets.map((t) => t.integrationId))),
];

type OwnerFacts = Pick<Integration, 'integrationOwners' | 'resourceOwnerMappings'>;

type Entry = RequestablePage['items'][number];

/**
 * What the flows offer on a page of resources, as a RequestablePage. For each resource: each flow
 * with the permissions it allows there (only those the resource has), and the union of them; null
 * when no flow offers anything, so that a person never sees a resource no flow offers them. What
 * does not depend on the resource (the flow's words, its timeframe now, who approves unless the
 * resource's owner does) is worked out and written once per flow, flows in name order.
 */
export function offersOf(
  flows: AccessFlow[],
  now: Date,
): { flows: RequestablePage['flows']; offer: (resource: Resource, integration: OwnerFacts | undefined) => Entry | null } {
  const sorted = [...flows].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const byOwner = sorted.map((flow) => flow.approvers?.groups.some((g) => g.type === 'OWNER') ?? false);
  const shown = sorted.map((flow, i) => ({
    id: flow.id,
    name: flow.name,
    maxDurationMinutes: flow.maxDurationMinutes,
    approvalRequired: flow.approvers !== null,
    // Named users and groups are the same on every resource; an owner is looked up per resource.
    approvers: byOwner[i] ? 'the resource owner' : describeApprovers(flow.approvers, { tags: {} }, undefined),
    justificationRequired: flow.settings.justificationRequired,
    maxExtensions: flow.settings.maxExtensions,
    timeframe: flow.timeframe ? describeTimeframe(flow.timeframe) : null,
    availableNow: !flow.timeframe || inTimeframe(flow.timeframe, now),
  }));
  // Flows often share a target (the same tables offered to several groups): each distinct target is
  // checked once per resource, and each flow reads the answers of its own targets.
  const distinct = new Map<string, number>();
  const targets: FlowTarget[] = [];
  const targetsOf = sorted.map((flow) =>
    flow.targets.map((target) => {
      const key = JSON.stringify([target.integrationId, target.resourceType, target.permissions, target.resources ?? null]);
      if (!distinct.has(key)) distinct.set(key, targets.push(target) - 1);
      return distinct.get(key)!;
    }),
  );
  const offer = (resource: Resource, integration: OwnerFacts | undefined): Entry | null => {
    const covered = targets.map((target) => resource.permissions.filter((p) => targetCovers(target, resource, p)));
    const offered: Array<{ flow: number; permissions: Permission[] }> = [];
    targetsOf.forEach((own, i) => {
      const permissions = own.length === 1 ? covered[own[0]] : resource.permissions.filter((p) => own.some((t) => covered[t].includes(p)));
      if (permissions.length > 0) offered.push({ flow: i, permissions });
    });
    if (offered.length === 0) return null;
    const permissions = resource.permissions.filter((p) => offered.some((o) => o.permissions.includes(p)));
    const offers = offered.map(({ flow, permissions: here }) => {
      if (byOwner[flow]) return { flow, permissions: here, approvers: describeApprovers(sorted[flow].approvers, resource, integration) };
      return here.length === permissions.length ? flow : { flow, permissions: here };
    });
    return { resource, permissions, offers };
  };
  return { flows: shown, offer };
}

/** Who approves, in words a requester understands; OWNER names the tag that picks the owner, or the fallback. */
export function describeApprovers(approvers: Approvers, resource: Pick<Resource, 'tags'>, integration: OwnerFacts | undefined): string {
  if (approvers === null) return 'automatic (no approval needed)';
  const parts = approvers.groups.map((group) => {
    if (group.type !== 'OWNER') return `${group.type} ${group.values!.join(', ')}`;
    const mapped = (integration?.resourceOwnerMappings ?? [])
      .filter((m) => resource.tags[m.tagKey] !== undefined)
      .map((m) => `${m.tagKey}=${resource.tags[m.tagKey]}`);
    if (mapped.length > 0) return `resource owner (tag ${mapped.join(', ')})`;
    const owners = (integration?.integrationOwners ?? []).map((o) => `${o.attribute} ${o.values.join(', ')}`);
    return owners.length > 0 ? `integration owner (${owners.join('; ')})` : 'integration owner (none set)';
  });
  return `${approvers.mode === 'ALL_OF' ? 'all of' : 'any of'}: ${parts.join('; ')}`;
}
