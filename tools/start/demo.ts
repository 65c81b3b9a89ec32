import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { quoteIdent, quoteLiteral } from '@latchkey/pg-access';

export const DEMO_DATABASE = 'latchkey_demo';
export const DEMO_CONNECTOR_ROLE = 'latchkey_connector';
export const DEMO_INTEGRATION = 'Demo PostgreSQL';
export const DEMO_FLOW = 'Demo: analysts read sales';

const SCHEMA_SQL = `
  CREATE SCHEMA IF NOT EXISTS sales;
  CREATE SCHEMA IF NOT EXISTS hr;
  CREATE SCHEMA IF NOT EXISTS analytics;
  CREATE TABLE IF NOT EXISTS sales.customers (id bigserial PRIMARY KEY, name text NOT NULL, country text);
  CREATE TABLE IF NOT EXISTS sales.orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES sales.customers, total numeric(12,2), placed_at timestamptz DEFAULT now());
  CREATE TABLE IF NOT EXISTS sales.invoices (id bigserial PRIMARY KEY, order_id bigint REFERENCES sales.orders, amount numeric(12,2), paid boolean DEFAULT false);
  CREATE TABLE IF NOT EXISTS hr.employees (id bigserial PRIMARY KEY, name text NOT NULL, salary numeric(12,2));
  CREATE OR REPLACE VIEW analytics.daily_revenue AS SELECT date_trunc('day', placed_at) AS day, sum(total) AS revenue FROM sales.orders GROUP BY 1;
  COMMENT ON TABLE sales.invoices IS 'Issued invoices
latchkey:owner=finance';
  COMMENT ON TABLE hr.employees IS 'latchkey:owner=people-team
latchkey:sensitivity=high';
  INSERT INTO sales.customers (name, country) SELECT 'Customer ' || g, (ARRAY['DE','FR','US'])[1 + g % 3] FROM generate_series(1, 20) g
    WHERE NOT EXISTS (SELECT 1 FROM sales.customers);
`;

/**
 * `npm start -- --demo`: a sample target database with a few schemas and tables, a connector login
 * with the rights Latchkey needs there, an integration and an access flow registered through the HTTP API.
 */
export async function createDemo(
  apiUrl: string,
  adminToken: string,
  databaseUrl: string,
): Promise<{ integrationId: string; status: string; created: boolean; flowId: string }> {
  const server = new URL(databaseUrl);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const password = randomBytes(18).toString('base64url');

  const root = new Client({ connectionString: admin.toString() });
  await root.connect();
  try {
    const { rowCount } = await root.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DATABASE]);
    if (!rowCount) await root.query(`CREATE DATABASE ${quoteIdent(DEMO_DATABASE)}`);
    const exists = await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [DEMO_CONNECTOR_ROLE]);
    if (!exists.rowCount) await root.query(`CREATE ROLE ${quoteIdent(DEMO_CONNECTOR_ROLE)} LOGIN CREATEROLE`);
    await root.query(`ALTER ROLE ${quoteIdent(DEMO_CONNECTOR_ROLE)} LOGIN CREATEROLE PASSWORD ${quoteLiteral(password)}`);
    await root.query(`GRANT pg_signal_backend TO ${quoteIdent(DEMO_CONNECTOR_ROLE)}`);
    await root.query(`GRANT ALL ON DATABASE ${quoteIdent(DEMO_DATABASE)} TO ${quoteIdent(DEMO_CONNECTOR_ROLE)} WITH GRANT OPTION`);
    await scopeToDemoDatabase(root, decodeURIComponent(server.pathname.replace(/^\//, '')));
  } finally {
    await root.end();
  }

  const demoUrl = new URL(databaseUrl);
  demoUrl.pathname = `/${DEMO_DATABASE}`;
  const demo = new Client({ connectionString: demoUrl.toString() });
  await demo.connect();
  try {
    await demo.query(SCHEMA_SQL);
    for (const schema of ['public', 'sales', 'hr', 'analytics']) {
      await demo.query(`GRANT ALL ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(DEMO_CONNECTOR_ROLE)} WITH GRANT OPTION`);
      await demo.query(`GRANT ALL ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(DEMO_CONNECTOR_ROLE)} WITH GRANT OPTION`);
      await demo.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(DEMO_CONNECTOR_ROLE)} WITH GRANT OPTION`);
    }
  } finally {
    await demo.end();
  }

  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const body = {
    name: DEMO_INTEGRATION,
    type: 'postgresql',
    connectorId: 'local',
    connectedResourceTypes: ['postgresql-database', 'postgresql-schema', 'postgresql-table', 'postgresql-role'],
    config: { hostname: server.hostname, port: Number(server.port || 5432), dbname: DEMO_DATABASE, sslmode: 'prefer' },
    secret: { store: 'builtin', username: DEMO_CONNECTOR_ROLE, password },
    customAccessDetails: 'Demo database on this machine. Tables in sales, hr and analytics.',
    integrationOwners: [{ attribute: 'group', values: ['data-team'] }],
    resourceOwnerMappings: [{ tagKey: 'owner', attribute: 'group' }],
  };
  const list = (await (await fetch(`${apiUrl}/api/v1/integrations?pageSize=500`, { headers })).json()) as { items: Array<{ id: string; name: string }> };
  const existing = list.items.find((i) => i.name.toLowerCase() === DEMO_INTEGRATION.toLowerCase());
  const res = existing
    ? await fetch(`${apiUrl}/api/v1/integrations/${existing.id}`, { method: 'PUT', headers, body: JSON.stringify(body) })
    : await fetch(`${apiUrl}/api/v1/integrations`, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = (await res.json()) as { id: string; status: string; message?: string };
  if (!res.ok) throw new Error(`registering the demo integration failed (${res.status}): ${answer.message}`);
  return { integrationId: answer.id, status: answer.status, created: !existing, flowId: await upsertDemoFlow(apiUrl, headers, answer.id) };
}

/**
 * The demo target shares the instance with Latchkey's control database: the connector may not
 * connect to the control database (CONNECT taken from PUBLIC, kept for the user the services
 * connect as). The control database's marker keeps it out of discovery and preflight even where
 * this is not done. The demo database keeps PUBLIC's CONNECT: people granted a role there log in to it.
 */
async function scopeToDemoDatabase(root: Client, controlDatabase: string): Promise<void> {
  if (controlDatabase && controlDatabase !== DEMO_DATABASE) {
    await root.query(`GRANT CONNECT ON DATABASE ${quoteIdent(controlDatabase)} TO CURRENT_USER`);
    await root.query(`REVOKE CONNECT ON DATABASE ${quoteIdent(controlDatabase)} FROM PUBLIC, ${quoteIdent(DEMO_CONNECTOR_ROLE)}`);
  }
}

/** Analysts may read the sales tables for up to two hours; the table's owner (or data-team) approves. */
async function upsertDemoFlow(apiUrl: string, headers: Record<string, string>, integrationId: string): Promise<string> {
  for (const name of ['analysts', 'data-team', 'finance']) {
    await fetch(`${apiUrl}/api/v1/groups`, { method: 'POST', headers, body: JSON.stringify({ name }) });
  }
  const flow = {
    name: DEMO_FLOW,
    requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
    targets: [
      {
        integrationId,
        resourceType: 'postgresql-table',
        permissions: ['READ_ONLY'],
        resources: { mode: 'include', by: 'name', values: [`${DEMO_DATABASE}/sales/*`] },
      },
    ],
    approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
    maxDurationMinutes: 120,
    settings: { justificationRequired: true, approverReasonRequired: false, maxExtensions: 1 },
  };
  const flows = (await (await fetch(`${apiUrl}/api/v1/access-flows?pageSize=500`, { headers })).json()) as { items: Array<{ id: string; name: string }> };
  const existing = flows.items.find((f) => f.name === DEMO_FLOW);
  const res = existing
    ? await fetch(`${apiUrl}/api/v1/access-flows/${existing.id}`, { method: 'PUT', headers, body: JSON.stringify(flow) })
    : await fetch(`${apiUrl}/api/v1/access-flows`, { method: 'POST', headers, body: JSON.stringify(flow) });
  const answer = (await res.json()) as { id: string; message?: string };
  if (!res.ok) throw new Error(`registering the demo access flow failed (${res.status}): ${answer.message}`);
  return answer.id;
}
