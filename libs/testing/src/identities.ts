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
