import { isApproved, PeopleDirectory, Person, resolveApprovers } from './approvers';

const person = (email: string, groups: string[], attributes: Record<string, string> = {}) => ({ id: `id-${email}`, email, groups, attributes });
const everyone = [
  person('ana@x.io', ['analysts']),
  person('dana@x.io', ['data-team']),
  person('dan@x.io', ['data-team'], { team: 'finance' }),
  person('olga@x.io', ['ops']),
  person('sam@x.io', ['security'], { team: 'finance' }),
];
/** The directory over a fixed list: what the SQL directory answers over access.users. */
const directory: PeopleDirectory = {
  withAttribute: async (attribute: string, values: string[]): Promise<Person[]> =>
    everyone
      .filter((p) =>
        attribute === 'user'
          ? values.includes(p.email)
          : attribute === 'group'
            ? p.groups.some((g) => values.includes(g))
            : values.includes(p.attributes[attribute as 'team']),
      )
      .map(({ id, email }) => ({ id, email })),
};
const integration = {
  integrationOwners: [{ attribute: 'group', values: ['ops'] }],
  resourceOwnerMappings: [
    { tagKey: 'owner', attribute: 'group' },
    { tagKey: 'team', attribute: 'team' },
  ],
};

describe('resolveApprovers', () => {
  it('finds resource owners through the tag mappings, else falls back to the integration owners', async () => {
    const [owned] = await resolveApprovers(
      {
        approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
        integration,
        resources: [{ path: 'a/b/c', tags: { owner: 'data-team' } }],
        requesterId: 'id-ana@x.io',
      },
      directory,
    );
    expect(owned).toMatchObject({ approverEmails: ['dan@x.io', 'dana@x.io'], source: 'a/b/c: tag owner=data-team -> group' });
    const [byAttribute] = await resolveApprovers(
      { approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] }, integration, resources: [{ path: 'a/b/c', tags: { team: 'finance' } }], requesterId: 'x' },
      directory,
    );
    expect(byAttribute.approverEmails).toEqual(['dan@x.io', 'sam@x.io']);
    const [unowned] = await resolveApprovers(
      { approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] }, integration, resources: [{ path: 'a/b/d', tags: { owner: 'nobody' } }], requesterId: 'x' },
      directory,
    );
    expect(unowned).toMatchObject({ approverEmails: ['olga@x.io'], source: 'integration owners' });
  });

  it('never lists the requester', async () => {
    const [group] = await resolveApprovers(
      { approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['data-team'] }] }, integration, resources: [], requesterId: 'id-dana@x.io' },
      directory,
    );
    expect(group.approverEmails).toEqual(['dan@x.io']);
  });

  it('ANY_OF needs one group, ALL_OF every group', () => {
    const g = (satisfiedBy: string | null) => ({ type: 'group' as const, values: [], source: null, approverIds: [], approverEmails: [], satisfiedBy });
    expect(isApproved('ANY_OF', [g(null), g('a')])).toBe(true);
    expect(isApproved('ALL_OF', [g(null), g('a')])).toBe(false);
    expect(isApproved('ALL_OF', [g('b'), g('a')])).toBe(true);
  });
});
