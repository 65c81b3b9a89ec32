import { randomUUID } from 'node:crypto';
import { createUser, startTestStack, STARTUP_TIMEOUT_MS, TestStack } from '@latchkey/testing';
import { ROUTES } from './openapi';

/**
 * Every route of the API (as documented in ROUTES, which a unit test keeps equal to what the
 * controllers serve) called three times: without a token, with a `user` token and with an admin
 * token. Path parameters are random UUIDs, so an admin may get a 404 (or a 400 for the empty
 * body), never a 401 or 403. Routes open to every authenticated person but restricted further
 * inside (approvers, owners) are checked by their own suites.
 */
describe('who may call each route', () => {
  let t: TestStack;
  let userToken: string;

  beforeAll(async () => {
    t = await startTestStack();
    userToken = (await createUser(t, { role: 'user' })).token;
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.dispose();
  });

  const call = (route: (typeof ROUTES)[number], token: string | null) =>
    t.api(
      route.method.toUpperCase(),
      route.path.replace(/\{\w+\}/g, () => randomUUID()),
      { token, body: route.method === 'post' || route.method === 'put' ? {} : undefined },
    );

  it('walks a route table that covers the API', () => {
    expect(ROUTES.length).toBeGreaterThan(10);
    expect(ROUTES.filter((r) => r.access === 'public').map((r) => r.path)).toEqual(expect.arrayContaining(['/health', '/api/docs']));
  });

  it.each(ROUTES.map((r) => [r.method.toUpperCase(), r.path, r.access, r] as const))('%s %s (%s)', async (method, path, access, route) => {
    const anonymous = await call(route, null);
    const asUser = await call(route, userToken);
    const asAdmin = await call(route, t.adminToken);
    const seen = { method, path, anonymous: anonymous.status, user: asUser.status, admin: asAdmin.status };

    if (access === 'public') {
      expect({ ...seen, anonymousOk: anonymous.status !== 401 && anonymous.status !== 403 }).toMatchObject({ anonymousOk: true });
    } else if (access === 'scim') {
      // Only a SCIM token opens /scim/v2: people's tokens, admins' included, get 401 in SCIM's error schema.
      expect({ ...seen, schema: asAdmin.body.schemas }).toMatchObject({
        anonymous: 401,
        user: 401,
        admin: 401,
        schema: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      });
      return;
    } else {
      expect({ ...seen, code: anonymous.body.code }).toMatchObject({ anonymous: 401, code: 'UNAUTHENTICATED' });
    }
    // Whatever the route makes of a random id or an empty body, it is never an internal error.
    expect({ ...seen, internalError: [anonymous, asUser, asAdmin].some((r) => r.status === 500) }).toMatchObject({ internalError: false });
    if (route.sessionOnly) {
      // Browser-session routes (sign-out, the session itself): a token is no session.
      expect({ ...seen, userCode: asUser.body.code, adminCode: asAdmin.body.code }).toMatchObject({
        user: 401,
        admin: 401,
        userCode: 'UNAUTHENTICATED',
        adminCode: 'UNAUTHENTICATED',
      });
      return;
    }
    if (access === 'admin') {
      expect({ ...seen, code: asUser.body.code }).toMatchObject({ user: 403, code: 'FORBIDDEN' });
    } else {
      expect({ ...seen, userAuthenticated: asUser.status !== 401 }).toMatchObject({ userAuthenticated: true });
    }
    expect({ ...seen, adminAllowed: asAdmin.status !== 401 && asAdmin.status !== 403 }).toMatchObject({ adminAllowed: true });
  });
});
