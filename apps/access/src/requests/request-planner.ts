import type { AccessFlow, Caller, DenialReason, Permission, Resource } from '@latchkey/contracts';
import { describeTimeframe, inTimeframe, requestorMatches, targetCovers } from '../flows/flow-matching';

export interface WantedItem {
  resource: Resource;
  permission: Permission;
}

/** One access request to create: the items one flow allows, on one integration. */
export interface PlannedRequest {
  flow: AccessFlow;
  integrationId: string;
  items: WantedItem[];
}

export type Plan = { ok: true; requests: PlannedRequest[] } | { ok: false; denials: DenialReason[] };

export interface PlanInput {
  caller: Caller;
  items: WantedItem[];
  durationMinutes: number;
  justification: string | undefined;
  flows: AccessFlow[];
  now: Date;
}

/**
 * Matches each item to the active flows that allow it for this caller now, and splits the request
 * into one per (flow, integration). Any item no flow allows denies the whole request, with every
 * reason found, so a person can fix the request in one go.
 */
export function planRequest(input: PlanInput): Plan {
  const active = input.flows.filter((flow) => flow.active);
  const eligibleByItem: AccessFlow[][] = [];
  const denials: DenialReason[] = [];

  for (const item of input.items) {
    const covering = active.filter((flow) => flow.targets.some((target) => targetCovers(target, item.resource, item.permission)));
    const reasons: string[] = [];
    const eligible: AccessFlow[] = [];
    if (covering.length === 0) reasons.push(`no active access flow covers ${item.permission} on ${item.resource.path}`);
    for (const flow of covering) {
      const broken: string[] = [];
      if (!requestorMatches(flow, input.caller)) broken.push(`you are not among the requestors of flow "${flow.name}"`);
      if (input.durationMinutes > flow.maxDurationMinutes)
        broken.push(`duration ${input.durationMinutes} minutes is above the maximum ${flow.maxDurationMinutes} of flow "${flow.name}"`);
      if (flow.timeframe && !inTimeframe(flow.timeframe, input.now))
        broken.push(`outside the timeframe of flow "${flow.name}" (${describeTimeframe(flow.timeframe)})`);
      if (flow.settings.justificationRequired && !input.justification) broken.push(`flow "${flow.name}" requires a justification`);
      if (broken.length === 0) eligible.push(flow);
      else reasons.push(...broken);
    }
    eligibleByItem.push(eligible);
    if (eligible.length === 0) denials.push({ resourceId: item.resource.id, permission: item.permission, reasons });
  }
  if (denials.length > 0) return { ok: false, denials };

  // Fewest requests: prefer the flow that covers the most items, then automatic approval, then name.
  const coverage = new Map<string, number>();
  for (const flows of eligibleByItem) for (const flow of flows) coverage.set(flow.id, (coverage.get(flow.id) ?? 0) + 1);
  const rank = (a: AccessFlow, b: AccessFlow) =>
    coverage.get(b.id)! - coverage.get(a.id)! ||
    Number(a.approvers !== null) - Number(b.approvers !== null) ||
    a.name.localeCompare(b.name) ||
    a.id.localeCompare(b.id);

  const planned = new Map<string, PlannedRequest>();
  input.items.forEach((item, i) => {
    const flow = [...eligibleByItem[i]].sort(rank)[0];
    const key = `${flow.id}/${item.resource.integrationId}`;
    const request = planned.get(key) ?? { flow, integrationId: item.resource.integrationId, items: [] };
    request.items.push(item);
    planned.set(key, request);
  });
  return { ok: true, requests: [...planned.values()] };
}
