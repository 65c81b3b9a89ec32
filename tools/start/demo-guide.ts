import type { AccessFlow, IntegrationOwner, ResourceOwnerMapping } from '@latchkey/contracts';

interface Owners {
  integrationOwners: IntegrationOwner[];
  resourceOwnerMappings: ResourceOwnerMapping[];
}

const list = (values: readonly string[]) => values.join(', ');
const groupsOf = (owners: readonly IntegrationOwner[]) => owners.filter((o) => o.attribute === 'group').flatMap((o) => o.values);

/** Who may approve requests of the flow, in words, from the flow and its integration as stored. */
export function describeApprovers(flow: AccessFlow, integration: Owners): string {
  if (!flow.approvers) return 'nobody needs to: requests are approved automatically';
  const each = flow.approvers.groups.map((g) => {
    if (g.type === 'user') return `user ${list(g.values ?? [])}`;
    if (g.type === 'group') return `group ${list(g.values ?? [])}`;
    const mappings = integration.resourceOwnerMappings.map((m) => `the ${m.attribute} named by the resource's "${m.tagKey}" tag`);
    const fallback = integration.integrationOwners.map((o) => `${o.attribute} ${list(o.values)}`);
    return `${[...mappings, `else the integration owners (${list(fallback)})`].join(', ')}`;
  });
  return `${flow.approvers.mode === 'ALL_OF' ? 'one of each' : 'any one'} of: ${each.join('; ')}`;
}

/**
 * What `npm start -- --demo` prints about its access flow: who may request, who approves, and the
 * commands that make one person of each (the README walk-through continues from there).
 */
export function demoGuide(apiUrl: string, flow: AccessFlow, integration: Owners): string {
  const requesterGroups = flow.requestors.conditions.filter((c) => c.type === 'group' && c.match === 'is').flatMap((c) => c.values);
  const approverGroups = groupsOf(integration.integrationOwners);
  const target = flow.targets[0];
  const scope = target.resources ? ` ${list(target.resources.values)}` : '';
  const user = (email: string, name: string, groups: string[]) =>
    `    curl -s -X POST ${apiUrl}/api/v1/users -H "Authorization: Bearer $T" -H 'content-type: application/json' -d '${JSON.stringify({ email, name, groups })}'`;
  return (
    [
      `  demo flow:   "${flow.name}": group ${list(requesterGroups)} may request ${list(target.permissions)} on ${target.resourceType}${scope}, up to ${flow.maxDurationMinutes} minutes`,
      `  approvers:   ${describeApprovers(flow, integration)}`,
      `  people:      one who may request and one who may approve (then a token each: README, "Request, approve, connect"):`,
      user('ana@example.com', 'Ana', requesterGroups),
      user('bo@example.com', 'Bo', approverGroups),
    ].join('\n') + '\n'
  );
}
