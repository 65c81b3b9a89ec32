import { randomBytes } from 'node:crypto';
import type { User, UserRole } from '@latchkey/contracts';
import type { TestStack } from './test-stack';

export interface TestUserInput {
  email?: string;
  name?: string;
  groups?: string[];
  attributes?: Record<string, string>;
  role?: UserRole;
}

/**
 * A user made through the API by the bootstrap admin, with an API token of their own: what e2e
 * suites use to act as someone. The email defaults to a fresh one.
 */
export async function createUser(t: Pick<TestStack, 'api'>, input: TestUserInput = {}): Promise<{ user: User; token: string }> {
  const body = { email: `e2e-${randomBytes(4).toString('hex')}@example.com`, name: 'E2E user', ...input };
  const created = await t.api<User>('POST', '/api/v1/users', { body });
  if (created.status !== 201) throw new Error(`creating user ${body.email} answered ${created.status}: ${created.text}`);
  const token = await t.api<{ token: string }>('POST', '/api/v1/tokens', { body: { userId: created.body.id, name: 'e2e' } });
  if (token.status !== 201) throw new Error(`creating a token for ${body.email} answered ${token.status}: ${token.text}`);
  return { user: created.body, token: token.body.token };
}

/** Registers a PostgreSQL integration for `dbname` on a private cluster, with a builtin secret; answers its id, refusing anything but ACTIVE. */
export async function createPgIntegration(
  t: Pick<TestStack, 'api'>,
  target: { port: number; username: string; password: string; dbname: string },
): Promise<string> {
  const res = await t.api('POST', '/api/v1/integrations', {
    body: {
      name: target.dbname,
      type: 'postgresql',
      connectedResourceTypes: ['postgresql-table', 'postgresql-schema', 'postgresql-database'],
      config: { hostname: '127.0.0.1', port: target.port, dbname: target.dbname, sslmode: 'disable' },
      secret: { store: 'builtin', username: target.username, password: target.password },
    },
  });
  if (res.body?.status !== 'ACTIVE') throw new Error(`the integration is not ACTIVE: ${res.status} ${res.text}`);
  return res.body.id as string;
}

/**
 * An access flow by which the group `requestors` may ask for read access to the tables of
 * `integrationId`, approved by any member of the group `approvers`; answers its id, refusing
 * anything but 201.
 */
export async function createGroupFlow(
  t: Pick<TestStack, 'api'>,
  flow: { integrationId: string; requestors: string; approvers: string; maxDurationMinutes: number; name?: string; settings?: Record<string, unknown> },
): Promise<string> {
  const res = await t.api('POST', '/api/v1/access-flows', {
    body: {
      name: flow.name ?? `${flow.requestors} read, ${flow.approvers} approve`,
      requestors: { conditions: [{ type: 'group', match: 'is', values: [flow.requestors] }] },
      targets: [{ integrationId: flow.integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
      approvers: { mode: 'ANY_OF', groups: [{ type: 'group', values: [flow.approvers] }] },
      maxDurationMinutes: flow.maxDurationMinutes,
      ...(flow.settings ? { settings: flow.settings } : {}),
    },
  });
  if (res.status !== 201) throw new Error(`creating access flow ${flow.name ?? ''} answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}
