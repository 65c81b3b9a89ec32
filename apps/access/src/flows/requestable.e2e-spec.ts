import { randomBytes } from 'node:crypto';
import { createUser, PgCluster, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, TestStack, waitUntil } from '@latchkey/testing';

const CONNECTOR_USER = 'latchkey_conn';
const CONNECTOR_PASSWORD = `conn-${randomBytes(8).toString('hex')}`;

interface Offer {
  path: string;
  permissions: string[];
  flows: Array<{ name: string; permissions: string[]; approvers: string; maxDurationMinutes: number; approvalRequired: boolean }>;
}

/**
 * "What may I request" through the gateway: people in different groups see exactly what their
 * active flows offer (include and exclude by name, id and tag), never anything else, page by page.
 */
describe('GET /api/v1/me/requestable', () => {
  let pg: PgCluster;
  let t: TestStack;
  let integrationId: string;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const emails: Record<string, string> = {};

  const requestable = async (who: string, query = '') => {
    const res = await t.api('GET', `/api/v1/me/requestable${query}`, { token: tokens[who] });
    expect(res.status).toBe(200);
    // Written as text by the gateway (requestablePageJson): still JSON to a client.
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    return res.body as { items: Array<{ resource: { path: string }; permissions: string[]; flows: Offer['flows'] }>; nextPageToken?: string };
  };
  /** Every page, as path -> offer. */
  const everything = async (who: string, query = '', pageSize = 50) => {
    const offers: Record<string, Offer> = {};
    let token: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await requestable(who, `?pageSize=${pageSize}${query}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      for (const item of page.items) {
        expect(offers[item.resource.path]).toBeUndefined();
        offers[item.resource.path] = { path: item.resource.path, permissions: item.permissions, flows: item.flows };
      }
      token = page.nextPageToken;
      if (!token) return offers;
    }
    throw new Error('more than 50 pages');
  };
  let hrFlow: Record<string, unknown>;
  let hrFlowId: string;
  const flow = async (body: Record<string, unknown>) => {
    const res = await t.api('POST', '/api/v1/access-flows', { body: { maxDurationMinutes: 60, approvers: null, ...body } });
    if (res.status !== 201) throw new Error(`flow ${String(body.name)}: ${res.status} ${res.text}`);
    return res.body.id as string;
  };

  beforeAll(async () => {
    pg = await startPgCluster({ hba: 'scram' });
    await pg.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await pg.query('CREATE DATABASE app');
    await pg.query(
      `CREATE SCHEMA billing; CREATE SCHEMA hr;
       CREATE TABLE billing.invoices (id int); COMMENT ON TABLE billing.invoices IS 'latchkey:owner=data-team';
       CREATE TABLE billing.payments (id int);
       CREATE TABLE billing."50%_off" (id int);
       CREATE TABLE hr.salaries (id int); COMMENT ON TABLE hr.salaries IS 'latchkey:owner=hr-team';
       CREATE TABLE public.notes (id int);`,
      undefined,
      'app',
    );
    t = await startTestStack();
    await t.api('POST', '/api/v1/groups', { body: { name: 'security' } });
    for (const [who, groups] of [
      ['analyst', ['analysts']],
      ['ops', ['ops']],
      ['outsider', []],
    ] as const) {
      const made = await createUser(t, { groups: [...groups] });
      tokens[who] = made.token;
      emails[who] = made.user.email;
    }
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'app',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table', 'postgresql-schema'],
        config: { hostname: '127.0.0.1', port: pg.port, dbname: 'app', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
        integrationOwners: [{ attribute: 'group', values: ['ops'] }],
        resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }],
      },
    });
    expect(integration.body.status).toBe('ACTIVE');
    integrationId = integration.body.id;
    await waitUntil('discovered tables', async () => {
      const list = await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&pageSize=100`);
      for (const r of list.body.items ?? []) ids[r.path] = r.id;
      return ids['app/billing/invoices'] && ids['app/billing/50%_off'] && ids['app/hr/salaries'] && ids['app/public/notes'] && ids['app/billing'];
    });

    const analysts = { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] };
    const ops = { conditions: [{ type: 'group', match: 'is', values: ['ops'] }] };
    await flow({
      name: 'billing by name',
      requestors: analysts,
      targets: [
        { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/billing/*'] } },
      ],
      approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
      maxDurationMinutes: 120,
    });
    await flow({
      name: 'all but salaries by id',
      requestors: analysts,
      targets: [
        {
          integrationId,
          resourceType: 'postgresql-table',
          permissions: ['READ_WRITE'],
          resources: { mode: 'exclude', by: 'id', values: [ids['app/hr/salaries']] },
        },
      ],
    });
    await flow({
      name: 'billing schema',
      requestors: analysts,
      targets: [
        { integrationId, resourceType: 'postgresql-schema', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/billing'] } },
      ],
    });
    await flow({
      name: 'owned by data teams',
      requestors: ops,
      targets: [
        {
          integrationId,
          resourceType: 'postgresql-table',
          permissions: ['ADMIN'],
          resources: { mode: 'include', by: 'tag', key: 'owner', values: ['data-*'] },
        },
      ],
      approvers: { mode: 'ALL_OF', groups: [{ type: 'group', values: ['security'] }] },
    });
    await flow({
      name: 'untagged for ops',
      requestors: ops,
      targets: [
        { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'exclude', by: 'tag', key: 'owner', values: ['*'] } },
      ],
    });
    hrFlow = {
      name: 'inactive hr for ops',
      active: false,
      requestors: ops,
      targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['ADMIN'], resources: { mode: 'include', by: 'name', values: ['app/hr/*'] } }],
    };
    hrFlowId = await flow(hrFlow);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
    await pg?.stop();
  });

  it('shows each person exactly what their active flows offer', async () => {
    const analyst = await everything('analyst');
    expect(Object.keys(analyst)).toEqual(['app/billing', 'app/billing/50%_off', 'app/billing/invoices', 'app/billing/payments', 'app/public/notes']);
    expect(analyst['app/billing/invoices'].permissions).toEqual(['READ_ONLY', 'READ_WRITE']);
    expect(analyst['app/public/notes'].permissions).toEqual(['READ_WRITE']);
    expect(analyst['app/billing'].permissions).toEqual(['READ_ONLY']);

    const ops = await everything('ops');
    // Tag include `data-*` picks invoices; tag exclude `*` picks what has no owner tag at all.
    expect(Object.keys(ops)).toEqual(['app/billing/50%_off', 'app/billing/invoices', 'app/billing/payments', 'app/public/notes']);
    expect(ops['app/billing/invoices'].permissions).toEqual(['ADMIN']);
    expect(ops['app/billing/payments'].permissions).toEqual(['READ_ONLY']);

    expect(await requestable('outsider')).toEqual({ items: [] });
  });

  it('names the flows, the longest duration and who approves, resource by resource', async () => {
    const analyst = await everything('analyst');
    const byName = (offer: Offer, name: string) => offer.flows.find((f) => f.name === name)!;
    expect(byName(analyst['app/billing/invoices'], 'billing by name')).toMatchObject({
      permissions: ['READ_ONLY'],
      maxDurationMinutes: 120,
      approvalRequired: true,
      approvers: 'any of: resource owner (tag owner=data-team)',
    });
    // No owner tag: the integration owners approve.
    expect(byName(analyst['app/billing/payments'], 'billing by name').approvers).toBe('any of: integration owner (group ops)');
    expect(byName(analyst['app/billing/payments'], 'all but salaries by id')).toMatchObject({
      approvalRequired: false,
      approvers: 'automatic (no approval needed)',
    });
    const ops = await everything('ops');
    expect(ops['app/billing/invoices'].flows.map((f) => [f.name, f.approvers])).toEqual([['owned by data teams', 'all of: group security']]);
  });

  it('pages, searches and filters without ever showing more', async () => {
    expect(Object.keys(await everything('analyst', '', 1))).toEqual(Object.keys(await everything('analyst')));
    expect(Object.keys(await everything('analyst', '&q=PAY'))).toEqual(['app/billing/payments']);
    // LIKE's own wildcards in a name are only literal characters.
    expect(Object.keys(await everything('analyst', `&q=${encodeURIComponent('%_')}`))).toEqual(['app/billing/50%_off']);
    expect(Object.keys(await everything('analyst', '&type=postgresql-schema'))).toEqual(['app/billing']);
    expect(Object.keys(await everything('analyst', '&tag=owner'))).toEqual(['app/billing/invoices']);
    expect(Object.keys(await everything('ops', '&q=salaries'))).toEqual([]);
  });

  it('answers from a flow as soon as it is turned on, edited or turned off (the access service keeps the active flows until one changes)', async () => {
    const put = async (body: Record<string, unknown>) =>
      expect((await t.api('PUT', `/api/v1/access-flows/${hrFlowId}`, { body: { maxDurationMinutes: 60, approvers: null, ...body } })).status).toBe(200);
    // A request is matched against the active flows as the control database holds them at that moment.
    const ask = () =>
      t.api('POST', '/api/v1/access-requests', {
        token: tokens.ops,
        body: { items: [{ resourceId: ids['app/hr/salaries'], permission: 'ADMIN' }], durationMinutes: 30, justification: 'payroll audit' },
      });
    const refused = async () => {
      const res = await ask();
      expect(res.status).toBe(403);
      expect(res.body.message).toContain('No access flow allows this request');
    };
    const before = Object.keys(await everything('ops'));
    await refused();
    await put({ ...hrFlow, active: true });
    const on = await everything('ops');
    expect(on['app/hr/salaries']).toMatchObject({ permissions: ['ADMIN'] });
    await put({ ...hrFlow, active: true, maxDurationMinutes: 30 });
    expect((await everything('ops'))['app/hr/salaries'].flows.find((f) => f.name === 'inactive hr for ops')).toMatchObject({ maxDurationMinutes: 30 });
    const asked = await ask();
    expect(asked.status).toBe(201);
    expect(asked.body.requests[0]).toMatchObject({ flowId: hrFlowId, durationMinutes: 30 });
    await put(hrFlow);
    expect(Object.keys(await everything('ops'))).toEqual(before);
    await refused();
  });

  it('dry-runs an unsaved flow: who could request what, and who would approve; nothing is saved', async () => {
    const gone = await createUser(t, { groups: ['analysts'] });
    expect((await t.api('POST', `/api/v1/users/${gone.user.id}/deactivate`)).status).toBe(200);
    const flowsBefore = (await t.api('GET', '/api/v1/access-flows?pageSize=200')).body.items.length;
    const body = {
      name: 'billing by name',
      requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
      targets: [
        { integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'], resources: { mode: 'include', by: 'name', values: ['app/billing/*'] } },
      ],
      approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
      maxDurationMinutes: 60,
    };
    const res = await t.api('POST', '/api/v1/access-flows/dry-run', { body });
    expect(res.status).toBe(200);
    // A deactivated member of the group is nobody's requester.
    expect(res.body.requestors).toEqual({ total: 1, people: [expect.objectContaining({ email: emails.analyst })] });
    expect(res.body.approvalRequired).toBe(true);
    const offered = Object.fromEntries(
      res.body.resources.items.map(
        (i: { resource: { path: string }; permissions: string[]; approvers: Array<{ approverEmails: string[]; source: string }> }) => [i.resource.path, i],
      ),
    );
    expect(Object.keys(offered)).toEqual(['app/billing/50%_off', 'app/billing/invoices', 'app/billing/payments']);
    expect(res.body.resources.more).toBe(false);
    expect(offered['app/billing/payments'].permissions).toEqual(['READ_ONLY']);
    // No owner tag on payments: the integration owners (group ops) approve.
    expect(offered['app/billing/payments'].approvers).toEqual([
      expect.objectContaining({ type: 'OWNER', source: 'integration owners', approverEmails: [emails.ops] }),
    ]);
    // invoices is tagged owner=data-team, a group with no members: nobody but the fallback.
    expect(offered['app/billing/invoices'].approvers[0].approverEmails).toEqual([emails.ops]);
    expect((await t.api('GET', '/api/v1/access-flows?pageSize=200')).body.items.length).toBe(flowsBefore);

    // A flow that could never match is refused as a save would be, naming the field.
    const bad = await t.api('POST', '/api/v1/access-flows/dry-run', {
      body: { ...body, approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: ['no-such-group'] }] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.issues).toEqual([{ field: 'approvers.groups.0.values.0', rule: 'must name an existing group (no-such-group does not exist)' }]);
    expect((await t.api('POST', '/api/v1/access-flows/dry-run', { body, token: tokens.analyst })).status).toBe(403);
  });

  it('refuses bad queries with the field and the rule', async () => {
    const res = await t.api('GET', '/api/v1/me/requestable?pageSize=0', { token: tokens.analyst });
    expect(res.status).toBe(400);
    expect(res.body.details.issues).toEqual([{ field: 'pageSize', rule: 'must be at least 1' }]);
    const unknown = await t.api('GET', '/api/v1/me/requestable?flow=x', { token: tokens.analyst });
    expect(unknown.status).toBe(400);
    expect((await t.api('GET', '/api/v1/me/requestable', { token: null })).status).toBe(401);
  });
});
