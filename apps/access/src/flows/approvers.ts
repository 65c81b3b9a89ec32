import type { Approvers, Integration, ResolvedApproverGroup, Resource } from '@latchkey/contracts';

export interface Person {
  id: string;
  email: string;
}

/** Who holds an identity attribute: `user` (emails), `group` (group names) or a free-form attribute (PeopleRepository; a test's fake). */
export abstract class PeopleDirectory {
  abstract withAttribute(attribute: string, values: string[]): Promise<Person[]>;
}

interface ResolveInput {
  approvers: NonNullable<Approvers>;
  integration: Pick<Integration, 'integrationOwners' | 'resourceOwnerMappings'>;
  resources: Pick<Resource, 'path' | 'tags'>[];
  requesterId: string;
}

/**
 * Resolves the flow's approver groups now, at request time (later changes of groups do not move a
 * pending request). OWNER: for each resource, the integration's resource-owner mappings turn a tag
 * value into people holding that attribute value; resources with no owner that way fall back to
 * the integration owners. The requester is never an approver.
 */
export async function resolveApprovers(input: ResolveInput, directory: PeopleDirectory): Promise<ResolvedApproverGroup[]> {
  const groups: ResolvedApproverGroup[] = [];
  for (const group of input.approvers.groups) {
    let people: Person[] = [];
    let source: string | null = null;
    if (group.type === 'OWNER') {
      const sources: string[] = [];
      let needsIntegrationOwners = false;
      for (const resource of input.resources) {
        const owners: Person[] = [];
        for (const mapping of input.integration.resourceOwnerMappings) {
          const value = resource.tags[mapping.tagKey];
          if (value === undefined) continue;
          const found = await directory.withAttribute(mapping.attribute, [value]);
          if (found.length) sources.push(`${resource.path}: tag ${mapping.tagKey}=${value} -> ${mapping.attribute}`);
          owners.push(...found);
        }
        if (owners.length === 0) needsIntegrationOwners = true;
        people.push(...owners);
      }
      if (needsIntegrationOwners) {
        for (const owner of input.integration.integrationOwners) people.push(...(await directory.withAttribute(owner.attribute, owner.values)));
        sources.push('integration owners');
      }
      source = sources.join('; ');
    } else {
      people = await directory.withAttribute(group.type, group.values!);
    }
    const approvers = unique(people).filter((p) => p.id !== input.requesterId);
    groups.push({
      type: group.type,
      values: group.values ?? [],
      source,
      approverIds: approvers.map((p) => p.id),
      approverEmails: approvers.map((p) => p.email),
      satisfiedBy: null,
    });
  }
  return groups;
}

function unique(people: Person[]): Person[] {
  const seen = new Map<string, Person>();
  for (const p of people) seen.set(p.id, p);
  return [...seen.values()].sort((a, b) => a.email.localeCompare(b.email));
}

/** Whether the request has the approvals its mode needs. */
export function isApproved(mode: 'ANY_OF' | 'ALL_OF', groups: ResolvedApproverGroup[]): boolean {
  return mode === 'ANY_OF' ? groups.some((g) => g.satisfiedBy !== null) : groups.every((g) => g.satisfiedBy !== null);
}
