import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Actor, AppException, SYSTEM_ACTOR, TokenInput, UserInput } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import { createServiceDataSource, migrate } from '@latchkey/persistence';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { AUDIT_ENTITIES } from '../audit/audit.module';
import { MIGRATIONS } from '../migrations';
import { AuditRepository } from '../audit/audit.repository';
import { AuditService } from '../audit/audit.service';
import { AuditSequencer } from '../audit/audit-sequencer';
import { AdminBootstrap } from './admin-bootstrap.service';
import { hashToken } from './api-token';
import { IDENTITY_ENTITIES } from './identities.module';
import { IdentitiesRepository } from './identities.repository';
import { SignInRepository } from './sign-in.repository';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';
import { IdentityChanges } from './identity-changes.repository';
import { UsersService } from './users.service';

const logger = createLogger('access', 'silent');
let scratch: ScratchDatabase;
let sql: Client;
let dataSource: DataSource;
let identities: IdentitiesRepository;
let tokensRepo: TokensRepository;
let audit: AuditService;
let sequencer: AuditSequencer;
let users: UsersService;
let tokens: TokensService;

const ADMIN_EMAIL = 'root@example.com';
const bootstrap = (token?: string) => new AdminBootstrap({ email: ADMIN_EMAIL, token }, identities, tokensRepo, audit, logger);
const userInput = (over: Partial<UserInput> = {}) => UserInput.parse({ email: `${randomUUID()}@example.com`, name: 'Ana', ...over });
const tokenInput = (over: Partial<TokenInput> & { userId: string }) => TokenInput.parse({ name: 'laptop', ...over });
const actorOf = (user: { id: string; email: string }): Actor => ({ type: 'user', id: user.id, email: user.email });

async function expectError(work: Promise<unknown>, code: string, message?: RegExp) {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppException);
  expect((err as AppException).code).toBe(code);
  if (message) expect((err as AppException).message).toMatch(message);
  return err as AppException;
}

/** Everything the control database holds in the identity and audit tables, as text. */
async function everything(): Promise<string> {
  const { rows } = await sql.query(
    "SELECT string_agg(t::text, E'\\n') AS text FROM (SELECT row_to_json(x)::text AS t FROM access.api_tokens x UNION ALL SELECT row_to_json(a)::text FROM access.audit_log a UNION ALL SELECT row_to_json(u)::text FROM access.users u) s",
  );
  return rows[0].text ?? '';
}

beforeAll(async () => {
  scratch = await createScratchDatabase('latchkey_access_identities_int');
  const url = scratch.url;
  dataSource = createServiceDataSource({
    url,
    schema: 'access',
    entities: [...IDENTITY_ENTITIES, ...AUDIT_ENTITIES],
    migrations: MIGRATIONS,
    poolSize: 8,
  });
  await migrate(dataSource, 'access');
  identities = new IdentitiesRepository(dataSource);
  tokensRepo = new TokensRepository(dataSource);
  const auditRepository = new AuditRepository(dataSource);
  sequencer = new AuditSequencer(auditRepository, logger);
  audit = new AuditService(auditRepository, sequencer);
  users = new UsersService(identities, tokensRepo, new SignInRepository(dataSource), audit, new IdentityChanges(dataSource));
  tokens = new TokensService(tokensRepo, identities, audit, logger);
  sql = new Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await sequencer?.onModuleDestroy();
  await dataSource?.destroy();
  await scratch?.drop();
});

describe('the bootstrap admin', () => {
  it('is generated once without LATCHKEY_ADMIN_TOKEN, then replaced by the variable, which wins over a revocation', async () => {
    const generated = await bootstrap().run();
    expect(generated).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(await bootstrap().run()).toBeUndefined();
    const root = (await identities.findUserByEmail(ADMIN_EMAIL))!;
    expect(root).toMatchObject({ email: ADMIN_EMAIL, role: 'admin' });
    expect((await tokens.authenticate(hashToken(generated!)))?.caller).toEqual({
      userId: root.id,
      email: ADMIN_EMAIL,
      role: 'admin',
      groups: [],
      attributes: {},
    });

    const seeded = `lk_${randomBytes(32).toString('base64url')}`;
    await bootstrap(seeded).run();
    expect(await tokens.authenticate(hashToken(generated!))).toBeNull();
    const auth = await tokens.authenticate(hashToken(seeded));
    expect(auth?.caller.userId).toBe(root.id);

    await tokens.revoke(SYSTEM_ACTOR, auth!.tokenId);
    expect(await tokens.authenticate(hashToken(seeded))).toBeNull();
    await bootstrap(seeded).run();
    expect(await tokens.authenticate(hashToken(seeded))).not.toBeNull();

    // Demoted by hand: the next start makes the configured email an admin again.
    await sql.query("UPDATE access.users SET role = 'user' WHERE id = $1", [root.id]);
    await bootstrap(seeded).run();
    expect((await identities.findUser(root.id))?.role).toBe('admin');
    expect(await everything()).not.toContain(generated);
    expect(await everything()).not.toContain(seeded);
  });
});

describe('users and groups', () => {
  it('creates a user, making the groups they name; email is unique regardless of case', async () => {
    const email = `Ana.${randomBytes(3).toString('hex')}@Example.com`;
    const ana = await users.create(
      SYSTEM_ACTOR,
      userInput({ email, groups: ['dba', 'payments', 'DBA'], attributes: { team: 'payments', manager: 'bo@example.com' } }),
    );
    expect(ana).toMatchObject({
      email: email.toLowerCase(),
      groups: ['dba', 'payments'],
      attributes: { team: 'payments', manager: 'bo@example.com' },
      role: 'user',
    });

    const dup = await expectError(
      users.create(SYSTEM_ACTOR, userInput({ email: email.toUpperCase() })),
      'CONFLICT',
      new RegExp(email.toLowerCase().replace(/\./g, '\\.')),
    );
    expect(dup.details?.issues).toEqual([{ field: 'email', rule: 'must be unique regardless of case' }]);

    // An existing group is reused in its stored spelling, whatever the case asked for.
    const bo = await users.create(SYSTEM_ACTOR, userInput({ groups: ['PAYMENTS'] }));
    expect(bo.groups).toEqual(['payments']);
    const groups = await users.listGroups({ pageSize: 500 });
    expect(
      groups.items
        .filter((g) => ['dba', 'payments'].includes(g.name))
        .map((g) => [g.name, g.members])
        .sort(),
    ).toEqual([
      ['dba', 1],
      ['payments', 2],
    ]);
    await expectError(users.createGroup(SYSTEM_ACTOR, { name: 'Payments' }), 'CONFLICT');

    const inGroup = await users.list({ group: 'Payments', pageSize: 500 });
    expect(inGroup.items.map((u) => u.id).sort()).toEqual([ana.id, bo.id].sort());
    expect((await users.list({ q: email.slice(0, 8).toUpperCase(), pageSize: 500 })).items.map((u) => u.id)).toEqual([ana.id]);

    const page1 = await users.list({ pageSize: 1 });
    const page2 = await users.list({ pageSize: 1, pageToken: page1.nextPageToken });
    expect(page1.items[0].id).not.toBe(page2.items[0].id);
    await expectError(users.list({ pageSize: 1, pageToken: 'nonsense' }), 'VALIDATION_FAILED');
  });

  it('records each change in the audit log with actor, target and diff', async () => {
    const root = (await identities.findUserByEmail(ADMIN_EMAIL))!;
    const actor = actorOf(root);
    const ana = await users.create(actor, userInput({ groups: ['sre'], attributes: { team: 'sre' } }));
    await users.update(actor, ana.id, userInput({ email: ana.email, name: 'Ana Lima', groups: ['sre', 'oncall'], attributes: { team: 'sre' } }));
    await users.delete(actor, ana.id);
    const { rows } = await sql.query('SELECT action, actor, target_type, target_id, diff, details FROM access.audit_log WHERE target_id = $1 ORDER BY queued', [
      ana.id,
    ]);
    expect(rows.map((r) => r.action)).toEqual(['user.created', 'user.updated', 'user.deleted']);
    expect(rows[0]).toMatchObject({
      actor: { type: 'user', id: root.id, email: ADMIN_EMAIL },
      target_type: 'user',
      diff: { email: { after: ana.email }, groups: { after: ['sre'] }, role: { after: 'user' } },
    });
    expect(rows[1].diff).toEqual({ name: { before: 'Ana', after: 'Ana Lima' }, groups: { before: ['sre'], after: ['oncall', 'sre'] } });
    expect(rows[2].diff.email).toEqual({ before: ana.email });
    const { rows: groups } = await sql.query("SELECT target_name, details FROM access.audit_log WHERE action = 'group.created' AND target_name = 'oncall'");
    expect(groups).toEqual([{ target_name: 'oncall', details: { via: 'user groups' } }]);
    await expectError(users.get(ana.id), 'NOT_FOUND');
  });

  it('keeps at least one admin', async () => {
    const root = (await identities.findUserByEmail(ADMIN_EMAIL))!;
    await expectError(users.update(SYSTEM_ACTOR, root.id, userInput({ email: root.email, role: 'user' })), 'CONFLICT', /last admin/);
    await expectError(users.delete(SYSTEM_ACTOR, root.id), 'CONFLICT', /last admin/);
    const second = await users.create(SYSTEM_ACTOR, userInput({ role: 'admin' }));
    await users.delete(SYSTEM_ACTOR, second.id);
  });
});

describe('API tokens', () => {
  it('are kept as hashes only, expire, are revoked, and die with their user', async () => {
    const ana = await users.create(SYSTEM_ACTOR, userInput({ groups: ['analysts'], attributes: { team: 'bi' } }));
    const created = await tokens.create(actorOf(ana), tokenInput({ userId: ana.id, expiresInDays: 30 }));
    expect(created.token).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(created.expiresAt!) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);

    const { rows } = await sql.query('SELECT token_hash FROM access.api_tokens WHERE id = $1', [created.id]);
    expect(rows[0].token_hash).toBe(hashToken(created.token));
    const stored = await everything();
    expect(stored).not.toContain(created.token);
    expect(stored).not.toContain(created.token.slice(3));
    // The audit log names the token, never its value or hash.
    const { rows: entries } = await sql.query("SELECT diff::text || coalesce(details::text, '') AS text FROM access.audit_log WHERE target_id = $1", [
      created.id,
    ]);
    expect(entries).toHaveLength(1);
    expect(entries[0].text).not.toContain(rows[0].token_hash);

    const auth = await tokens.authenticate(hashToken(created.token));
    expect(auth).toEqual({
      caller: { userId: ana.id, email: ana.email, role: 'user', groups: ['analysts'], attributes: { team: 'bi' } },
      tokenId: created.id,
      expiresAt: created.expiresAt,
    });
    expect(await tokens.authenticate(hashToken(`${created.token}x`))).toBeNull();

    // Expired.
    await sql.query("UPDATE access.api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [created.id]);
    expect(await tokens.authenticate(hashToken(created.token))).toBeNull();

    // Revoked: once, then idempotent.
    const second = await tokens.create(actorOf(ana), tokenInput({ userId: ana.id }));
    expect(second.expiresAt).toBeNull();
    const revoked = await tokens.revoke(actorOf(ana), second.id);
    expect(revoked.revokedAt).not.toBeNull();
    expect(await tokens.revoke(actorOf(ana), second.id)).toEqual(revoked);
    expect(await tokens.authenticate(hashToken(second.token))).toBeNull();
    const { rows: revocations } = await sql.query("SELECT count(*)::int AS n FROM access.audit_log WHERE action = 'token.revoked' AND target_id = $1", [
      second.id,
    ]);
    expect(revocations[0].n).toBe(1);

    // Deleting the user revokes what is left (the expired token too).
    const third = await tokens.create(SYSTEM_ACTOR, tokenInput({ userId: ana.id }));
    expect(await tokens.authenticate(hashToken(third.token))).not.toBeNull();
    await users.delete(SYSTEM_ACTOR, ana.id);
    expect(await tokens.authenticate(hashToken(third.token))).toBeNull();
    const left = await tokens.list(SYSTEM_ACTOR, { userId: ana.id, pageSize: 50 });
    expect(left.items.map((t) => [t.id, t.revokedAt !== null])).toEqual([
      [created.id, true],
      [second.id, true],
      [third.id, true],
    ]);
  });

  it("people manage their own tokens; admins anyone's", async () => {
    const root = (await identities.findUserByEmail(ADMIN_EMAIL))!;
    const ana = await users.create(SYSTEM_ACTOR, userInput());
    const bo = await users.create(SYSTEM_ACTOR, userInput());
    const anas = await tokens.create(actorOf(ana), tokenInput({ userId: ana.id }));
    await expectError(tokens.create(actorOf(ana), tokenInput({ userId: bo.id })), 'FORBIDDEN');
    const bos = await tokens.create(actorOf(root), tokenInput({ userId: bo.id }));
    await expectError(tokens.revoke(actorOf(ana), bos.id), 'FORBIDDEN');
    await expectError(tokens.list(actorOf(ana), { userId: bo.id, pageSize: 50 }), 'FORBIDDEN');
    expect((await tokens.list(actorOf(ana), { pageSize: 50 })).items.map((t) => t.id)).toEqual([anas.id]);
    const all = (await tokens.list(actorOf(root), { pageSize: 500 })).items.map((t) => t.id);
    expect(all).toEqual(expect.arrayContaining([anas.id, bos.id]));
    await expectError(tokens.create(actorOf(root), tokenInput({ userId: randomUUID() })), 'NOT_FOUND');
    await expectError(tokens.revoke(actorOf(root), randomUUID()), 'NOT_FOUND');
    // A demoted admin loses admin rights over tokens at once.
    const carol = await users.create(SYSTEM_ACTOR, userInput({ role: 'admin' }));
    await users.update(SYSTEM_ACTOR, carol.id, userInput({ email: carol.email, role: 'user' }));
    await expectError(tokens.revoke(actorOf(carol), anas.id), 'FORBIDDEN');
  });
});
