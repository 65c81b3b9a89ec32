import { Client } from 'pg';
import type { Browser, Page } from 'playwright-core';
import { freePort, startOidcProvider, startPgCluster, startTestStack, STARTUP_TIMEOUT_MS, waitUntil } from '@latchkey/testing';
import type { OidcTestProvider, PgCluster, TestStack } from '@latchkey/testing';
import { launchChromium, screenshot, see, signInAtProvider, WAIT_MS } from './browser';

jest.setTimeout(300_000);

const CONNECTOR_USER = 'identity_connector';
const CONNECTOR_PASSWORD = 'Connector-pw-5c1e9a77d2';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * The identity story end to end, as issue 16 tells it: the identity provider pushes Ada over SCIM
 * into group `analysts`; Ada signs in with single sign-on in Chromium (a real OpenID Provider on
 * loopback), requests read access in the portal, and reads the table with the password shown
 * once, keeping a session open on a private scram-only target. The provider then deactivates her
 * by SCIM PATCH (as Okta sends it): within seconds the target refuses her login, her open session
 * is gone from pg_stat_activity, and her browser session answers 401.
 */
describe('identity story: SCIM-provisioned, signed in with SSO, deprovisioned by the provider', () => {
  let t: TestStack;
  let target: PgCluster;
  let idp: OidcTestProvider;
  let browser: Browser;
  let page: Page;
  let scimToken = '';
  let adaId = '';
  let username = '';
  let password = '';
  let open: Client | null = null;

  const scim = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/scim/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${scimToken}`,
        accept: 'application/scim+json',
        ...(body !== undefined ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const login = async (pw: string) => {
    const client = new Client({ host: '127.0.0.1', port: target.port, user: username, password: pw, database: 'shop' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
      accounts: { 'okta-ada': { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: ['analysts'] } },
    });
    [t, target] = await Promise.all([
      startTestStack({
        env: {
          PORT: String(port),
          LATCHKEY_PUBLIC_URL: publicUrl,
          OIDC_ISSUER_URL: idp.issuer,
          OIDC_CLIENT_ID: idp.clientId,
          OIDC_CLIENT_SECRET: idp.clientSecret,
          OIDC_SCOPES: 'openid email profile groups',
          OIDC_PROVIDER_NAME: 'Okta',
          OIDC_JIT: 'false',
        },
      }),
      startPgCluster({ hba: 'scram' }),
    ]);
    await target.query(`CREATE ROLE ${CONNECTOR_USER} SUPERUSER LOGIN PASSWORD '${CONNECTOR_PASSWORD}'`);
    await target.query('CREATE DATABASE shop');
    await target.query(
      'CREATE SCHEMA sales; CREATE TABLE sales.invoices (id int PRIMARY KEY, total numeric); INSERT INTO sales.invoices VALUES (1, 42);',
      undefined,
      'shop',
    );
    const integration = await t.api('POST', '/api/v1/integrations', {
      body: {
        name: 'shop',
        type: 'postgresql',
        connectedResourceTypes: ['postgresql-table'],
        config: { hostname: '127.0.0.1', port: target.port, dbname: 'shop', sslmode: 'disable' },
        secret: { store: 'builtin', username: CONNECTOR_USER, password: CONNECTOR_PASSWORD },
      },
    });
    expect({ status: integration.status, body: integration.body }).toMatchObject({ status: 201, body: { status: 'ACTIVE' } });
    const integrationId = integration.body.id;
    await waitUntil(
      'the table discovered',
      async () => (await t.api('GET', `/api/v1/resources?integrationId=${integrationId}&q=invoices`)).body.items?.length > 0,
      WAIT_MS,
    );
    const flow = await t.api('POST', '/api/v1/access-flows', {
      body: {
        name: 'analysts read',
        requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
        targets: [{ integrationId, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
        approvers: null,
        maxDurationMinutes: 120,
        settings: { justificationRequired: false },
      },
    });
    expect(flow.status).toBe(201);

    // The identity provider pushes Ada and her group.
    const token = await t.api('POST', '/api/v1/scim-tokens', { body: { name: 'okta' } });
    scimToken = token.body.token;
    const ada = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'ada@example.com',
      externalId: '00u-ada',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.com', primary: true }],
      active: true,
    });
    expect(ada.status).toBe(201);
    adaId = ada.body.id;
    expect(
      (await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'analysts', externalId: '00g-analysts', members: [{ value: adaId }] })).status,
    ).toBe(201);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await open?.end().catch(() => undefined);
    await browser?.close();
    await t?.dispose();
    await target?.stop();
    await idp?.stop();
  }, STARTUP_TIMEOUT_MS);

  it('signs Ada in with single sign-on as the person SCIM made (no account is created at sign-in)', async () => {
    await page.goto(`${t.url}/`, { waitUntil: 'domcontentloaded' });
    await signInAtProvider(page, { latchkeyUrl: t.url, issuer: idp.issuer, account: 'okta-ada' });
    await see(page.getByRole('heading', { level: 1, name: 'New request' }));
    const users = await t.control<{ id: string; external_id: string }>("SELECT id, external_id FROM access.users WHERE lower(email) = 'ada@example.com'");
    expect(users).toEqual([{ id: adaId, external_id: '00u-ada' }]);
  });

  it('requests in the portal, is granted by the flow, and reads the table with the password shown once', async () => {
    await page.getByLabel('Search resources').fill('invoices');
    await page.getByRole('checkbox', { name: 'Pick shop/sales/invoices' }).check();
    await page.getByLabel('Duration (minutes)').fill('60');
    await page.getByRole('button', { name: 'Check who approves' }).click();
    await see(page.getByRole('status').filter({ hasText: 'This request can be made' }));
    await page.getByRole('button', { name: 'Request access' }).click();
    await see(page.getByRole('heading', { level: 1, name: 'Request: READ_ONLY on shop/sales/invoices' }));
    await see(page.getByRole('status').filter({ hasText: 'GRANTED' }));
    await page.getByRole('link', { name: 'Connect' }).click();
    await page.getByRole('button', { name: 'Reveal password and access details' }).click();
    const box = page.getByRole('textbox', { name: 'Password' });
    await see(box);
    password = await box.inputValue();
    username = /user=(\S+)/.exec((await page.getByRole('figure', { name: 'psql command' }).textContent())!)![1];
    await screenshot(page, 'identity-story-connect');
    open = await login(password);
    expect((await open.query('SELECT total FROM sales.invoices')).rows).toEqual([{ total: '42' }]);
    const sessions = await target.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${username}'`);
    expect(sessions[0].n).toBe(1);
  });

  it('deactivated by the provider over SCIM: the login is refused, the open session is gone, the browser session ends', async () => {
    const ended = new Promise<void>((done) => open!.once('end', () => done()));
    const patch = await scim('PATCH', `/Users/${adaId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(patch.status).toBe(200);
    expect(patch.body.active).toBe(false);
    await waitUntil(
      'the open session gone from pg_stat_activity',
      async () => (await target.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${username}'`))[0].n === 0,
      WAIT_MS,
    );
    await ended;
    open = null;
    await expect(login(password)).rejects.toThrow();
    // NOLOGIN, and no membership left but Latchkey's marker (latchkey_managed says who manages the login).
    const [role] = await target.query<{ rolcanlogin: boolean; memberships: string[] }>(
      `SELECT r.rolcanlogin, ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS memberships FROM pg_roles r WHERE r.rolname = '${username}'`,
    );
    expect(role).toEqual({ rolcanlogin: false, memberships: ['latchkey_managed'] });
    const [{ reads }] = await target.query<{ reads: boolean }>(
      `SELECT has_table_privilege('${username}', 'sales.invoices', 'SELECT') AS reads`,
      undefined,
      'shop',
    );
    expect(reads).toBe(false);
    // The browser's session is over: the API answers 401 to its cookie, and the page goes back to sign-in.
    const cookie = (await page.context().cookies(t.url)).find((c) => c.name === 'latchkey_session');
    expect((await t.api('GET', '/api/v1/me', { token: null, headers: { cookie: `latchkey_session=${cookie?.value ?? ''}` } })).status).toBe(401);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await see(page.getByRole('link', { name: 'Sign in with Okta' }));
    const requests = await t.control<{ status: string }>('SELECT status FROM access.access_requests WHERE requester_id = $1', [adaId]);
    expect(requests.map((r) => r.status)).toEqual(['REVOKED']);
  });
});
