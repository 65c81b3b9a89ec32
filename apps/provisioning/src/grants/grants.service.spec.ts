import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { AppException, Contracts, ErrorCode, GrantStates, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { Actor, EventContract, GrantItem, GrantStatus, PreflightReport } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import type { OutboxEntry } from '@latchkey/persistence';
import { GrantError } from '@latchkey/pg-access';
import type { ApplyGrantOptions, ApplyGrantResult, PreflightOptions, TargetConnectionParams } from '@latchkey/pg-access';
import { decryptSecret, MasterKey } from '@latchkey/secrets';
import type { EventPublisher, TargetLookup } from '../revocations/revocation.service';
import { GrantEntity } from '../store/grant.entity';
import type { ResolvedTarget } from '../target/target-resolver';
import { GrantsService } from './grants.service';
import type { GrantCommand, GrantOnTarget, GrantRows, RevocationJobs, Revocations } from './grants.service';

const INTEGRATION = '3b241101-e2bb-4255-8caf-4136c566a962';
const GRACE_SECONDS = 60;
/** Not the engine's default (64), so the spec sees the setting carried through. */
const SCRAM_ITERATIONS = 4096;
const ITEM: GrantItem = { resourceType: 'postgresql-table', database: 'billing', schema: 'public', table: 'invoices', permission: 'READ_ONLY' };
const PARAMS: TargetConnectionParams = { hostname: 'db.internal', port: 5432, dbname: 'app', sslmode: 'require', username: 'latchkey', password: 'p' };
const RESOLVED: ResolvedTarget = { params: PARAMS, config: { hostname: 'db.internal', port: 5432, dbname: 'app', sslmode: 'require' } };

/** The grants table in memory, with the rules its SQL keeps: one row per idempotency key, statuses moving along the transition table only. */
class MemoryGrants implements GrantRows {
  readonly rows = new Map<string, GrantEntity>();
  readonly audits: OutboxEntry[] = [];
  readonly touchedRoles: string[] = [];

  async insertOnce(fields: Partial<GrantEntity>, audit?: (grant: GrantEntity) => OutboxEntry): Promise<{ grant: GrantEntity; created: boolean }> {
    const holder = [...this.rows.values()].find((g) => g.idempotencyKey === fields.idempotencyKey);
    if (holder) return { grant: copy(holder), created: false };
    const now = new Date();
    const row = Object.assign(
      new GrantEntity(),
      { id: randomUUID(), endReason: null, revokedBy: null, createdAt: now, grantedAt: null, endedAt: null, lastError: null, updatedAt: now },
      fields,
    );
    this.rows.set(row.id, row);
    if (audit) this.audits.push(audit(copy(row)));
    return { grant: copy(row), created: true };
  }

  async findById(id: string): Promise<GrantEntity | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async withLock<T>(
    id: string,
    work: (grant: GrantEntity | null, save: (fields: Partial<GrantEntity>, audit?: (grant: GrantEntity) => OutboxEntry) => Promise<GrantEntity>) => Promise<T>,
  ): Promise<T> {
    const row = this.rows.get(id);
    return work(row ? copy(row) : null, async (fields, audit) => {
      Object.assign(row!, fields);
      if (audit) this.audits.push(audit(copy(row!)));
      return copy(row!);
    });
  }

  async transition(id: string, to: GrantStatus, fields: Omit<Partial<GrantEntity>, 'status'>): Promise<GrantEntity | null> {
    const row = this.rows.get(id);
    if (!row || !GrantStates.predecessorsOf(to).includes(row.status)) return null;
    Object.assign(row, fields, { status: to });
    return copy(row);
  }

  async activate(grant: Pick<GrantEntity, 'id' | 'roleName'>, grantedAt: Date): Promise<GrantEntity | null> {
    this.touchedRoles.push(grant.roleName);
    return this.transition(grant.id, 'ACTIVE', { grantedAt, lastError: null });
  }

  async beginRevocation(id: string, by: Actor): Promise<GrantEntity | null> {
    const row = this.rows.get(id);
    if (!row || !GrantStates.predecessorsOf('REVOKING').includes(row.status)) return null;
    const expired = row.expiresAt.getTime() <= Date.now();
    Object.assign(row, { status: 'REVOKING', endReason: expired ? 'EXPIRED' : 'REVOKED', revokedBy: expired ? null : by });
    return copy(row);
  }

  async recordFailure(id: string, error: string): Promise<GrantEntity | null> {
    const row = this.rows.get(id);
    if (!row) return null;
    Object.assign(row, { attempts: row.attempts + 1, lastError: error.slice(0, 2000) });
    return copy(row);
  }

  async touchRole(_integrationId: string, roleName: string): Promise<void> {
    this.touchedRoles.push(roleName);
  }

  async page(filter: { connectorId: string; integrationId?: string; status?: GrantStatus }, pageSize: number): Promise<GrantEntity[]> {
    const rows = [...this.rows.values()].filter((g) => g.connectorId === filter.connectorId && (!filter.status || g.status === filter.status));
    return rows.slice(0, pageSize + 1).map(copy);
  }
}

const copy = (g: GrantEntity) => Object.assign(new GrantEntity(), g);

/** The target database: records what was asked of it; `failures` are thrown by the next grants, in order. */
class FakeTarget implements GrantOnTarget {
  readonly applied: ApplyGrantOptions[] = [];
  readonly passwords = new Map<string, string>();
  readonly validUntil = new Map<string, Date>();
  /** The SCRAM iterations each role's password was last set with. */
  readonly iterations = new Map<string, number | undefined>();
  readonly failures: unknown[] = [];
  report: PreflightReport = { ok: true, testedAt: new Date().toISOString(), connectorId: 'local', connected: true, tls: true, checks: [] };

  async applyGrant(_conn: TargetConnectionParams, opts: ApplyGrantOptions): Promise<ApplyGrantResult> {
    // As the engine: nothing changes for the person before `ready`, and its rejection is thrown.
    await opts.ready;
    this.applied.push(opts);
    if (this.failures.length > 0) throw this.failures.shift();
    this.passwords.set(opts.role, opts.password);
    this.iterations.set(opts.role, opts.scramIterations);
    return { profiles: [], uncoveredOwners: [], ungrantedObjects: [] };
  }

  async runPreflight(_conn: TargetConnectionParams, _opts: PreflightOptions): Promise<PreflightReport> {
    return this.report;
  }

  async setPassword(_conn: TargetConnectionParams, role: string, password: string, validUntil: Date, iterations?: number): Promise<void> {
    this.passwords.set(role, password);
    this.validUntil.set(role, validUntil);
    this.iterations.set(role, iterations);
  }

  async setValidUntil(_conn: TargetConnectionParams, role: string, validUntil: Date): Promise<void> {
    this.validUntil.set(role, validUntil);
  }
}

/** Revocation jobs by grant id: when each is due, or that it was asked to run now. */
class FakeJobs implements RevocationJobs {
  readonly due = new Map<string, Date>();
  readonly runNowAsked: string[] = [];

  async schedule(grantId: string, at: Date): Promise<void> {
    this.due.set(grantId, at);
  }

  async cancel(grantId: string): Promise<void> {
    this.due.delete(grantId);
  }

  async ensure(): Promise<void> {}

  async runNow(grantId: string): Promise<void> {
    this.runNowAsked.push(grantId);
  }
}

/** The revocation path: ends a REVOKING grant the way it started; remembers the grants it rolled back. */
class FakeRevocations implements Revocations {
  readonly undone: string[] = [];
  constructor(private readonly grants: MemoryGrants) {}

  async run(grantId: string): Promise<GrantEntity> {
    const grant = (await this.grants.findById(grantId))!;
    return (await this.grants.transition(grantId, grant.endReason === 'REVOKED' ? 'REVOKED' : 'EXPIRED', { endedAt: new Date() })) ?? grant;
  }

  async undo(grant: GrantEntity): Promise<void> {
    this.undone.push(grant.id);
  }
}

class FakeBus implements EventPublisher {
  readonly events: string[] = [];
  async publish<P extends z.ZodType>(contract: EventContract<P>, _payload: z.input<P>): Promise<void> {
    this.events.push(contract.subject);
  }
}

function setup() {
  const grants = new MemoryGrants();
  const target = new FakeTarget();
  const jobs = new FakeJobs();
  const revocations = new FakeRevocations(grants);
  const bus = new FakeBus();
  const targets: TargetLookup = { resolve: async () => RESOLVED };
  const key = new MasterKey([randomBytes(32)]);
  const info: ServiceInfo = { service: 'provisioning', version: '1.3.0', instanceId: 'i-1', startedAt: 0, connectorId: 'local' };
  const settings = { graceSeconds: GRACE_SECONDS, scramIterations: SCRAM_ITERATIONS, grantRetryDelaysMs: [] };
  const service = new GrantsService(grants, targets, revocations, jobs, target, bus, info, settings, createLogger('provisioning', 'silent'), key);
  return { service, grants, target, jobs, revocations, bus, key };
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const command = (fields: Partial<GrantCommand> = {}): GrantCommand => ({
  idempotencyKey: 'request-1',
  integrationId: INTEGRATION,
  identity: { id: 'person-1', email: 'ana@example.com' },
  items: [ITEM],
  expiresAt: inAnHour(),
  connectionLimit: 5,
  ...fields,
});

describe('GrantsService.create', () => {
  it('makes a grant once per idempotency key: the second call answers the same grant and credentials without touching the target again', async () => {
    const s = setup();
    const first = await s.service.create(command());
    expect(first.grant).toMatchObject({ status: 'ACTIVE', integrationId: INTEGRATION, identity: { id: 'person-1', email: 'ana@example.com' }, items: [ITEM] });
    expect(first.credentials).toEqual({
      host: 'db.internal',
      port: 5432,
      database: 'billing',
      username: first.grant.roleName,
      password: s.target.passwords.get(first.grant.roleName),
      sslmode: 'require',
    });
    const [applied] = s.target.applied;
    expect(applied).toMatchObject({
      role: first.grant.roleName,
      items: [ITEM],
      connectionLimit: 5,
      validUntil: new Date(Date.parse(first.grant.expiresAt) + GRACE_SECONDS * 1000),
    });
    expect(s.jobs.due.get(first.grant.id)).toEqual(new Date(first.grant.expiresAt));
    expect(s.grants.touchedRoles).toEqual([first.grant.roleName]);
    // The caller has its answer: no event.
    expect(s.bus.events).toEqual([]);

    const again = await s.service.create(command());
    expect(again).toEqual(first);
    expect(s.grants.rows.size).toBe(1);
    expect(s.target.applied).toHaveLength(1);
    expect(s.bus.events).toEqual([]);
  });

  it('changes nothing on the target when the grant row cannot be written', async () => {
    const s = setup();
    s.grants.insertOnce = () => Promise.reject(new Error('control database unreachable'));
    await expect(s.service.create(command())).rejects.toThrow('control database unreachable');
    expect(s.target.applied).toEqual([]);
    expect(s.jobs.due.size).toBe(0);
  });

  it('keeps the generated password only sealed with the master key', async () => {
    const s = setup();
    const { grant, credentials } = await s.service.create(command());
    const row = s.grants.rows.get(grant.id)!;
    expect(decryptSecret(row.passwordEnvelope!, s.key)).toEqual({ username: grant.roleName, password: credentials!.password });
  });

  it("refuses an idempotency key that belongs to another person's grant", async () => {
    const s = setup();
    await s.service.create(command());
    await expect(s.service.create(command({ identity: { id: 'person-2', email: 'bo@example.com' } }))).rejects.toMatchObject({ code: ErrorCode.Conflict });
  });

  it('refuses an expiry in the past, naming the field, before anything is written', async () => {
    const s = setup();
    const refusal = s.service.create(command({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await expect(refusal).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { issues: [{ field: 'expiresAt', rule: 'must be in the future' }] },
    });
    expect(s.grants.rows.size).toBe(0);
  });

  it('leaves a grant the target cannot take now GRANTING with its error (a retryable TARGET_UNAVAILABLE); the same key later finishes it', async () => {
    const s = setup();
    s.target.failures.push(Object.assign(new Error('the database system is starting up'), { code: '57P03' }));
    const postponed = await s.service.create(command()).catch((err: unknown) => err);
    expect(postponed).toBeInstanceOf(AppException);
    expect(postponed).toMatchObject({ code: ErrorCode.ServiceUnavailable, details: { reason: 'TARGET_UNAVAILABLE' } });
    const [row] = s.grants.rows.values();
    expect(row).toMatchObject({ status: 'GRANTING', attempts: 1, lastError: 'the database system is starting up' });
    expect(s.revocations.undone).toEqual([]);

    const finished = await s.service.create(command());
    expect(finished.grant).toMatchObject({ id: row.id, status: 'ACTIVE' });
    expect(finished.credentials).not.toBeNull();
  });

  it('records a refusal of the target as FAILED with the SQL that fixes it, rolls the grant back and drops its revocation job', async () => {
    const s = setup();
    const fix = 'GRANT SELECT ON "public"."invoices" TO "latchkey" WITH GRANT OPTION;';
    s.target.failures.push(new GrantError('missing_privilege', 'The connector may not grant SELECT on "public"."invoices"', fix));
    const { grant, credentials } = await s.service.create(command());
    expect(credentials).toBeNull();
    expect(grant.status).toBe('FAILED');
    expect(grant.lastError).toContain(fix);
    expect(s.revocations.undone).toEqual([grant.id]);
    expect(s.jobs.due.has(grant.id)).toBe(false);
    expect(s.bus.events).toEqual([Contracts.provisioningGrantFailed.subject]);
  });

  it("finds the fix of a privilege error without one in a preflight of the items' databases", async () => {
    const s = setup();
    const fix = 'GRANT CREATE ON DATABASE "billing" TO "latchkey";';
    s.target.report = { ...s.target.report, ok: false, checks: [{ id: 'grant_database', target: 'billing', ok: false, detail: 'no grant option', fix }] };
    s.target.failures.push(Object.assign(new Error('permission denied for database billing'), { code: '42501' }));
    const { grant } = await s.service.create(command());
    expect(grant.status).toBe('FAILED');
    expect(grant.lastError).toContain(fix);
  });
});

describe('GrantsService.revoke, extend, resetCredentials', () => {
  it('answers NOT_FOUND for a grant it does not hold', async () => {
    const s = setup();
    await expect(s.service.revoke(randomUUID(), SYSTEM_ACTOR)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(s.service.extend(randomUUID(), inAnHour())).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('revokes an active grant at once (REVOKED by whoever asked) and answers an ended grant as it is', async () => {
    const s = setup();
    const { grant } = await s.service.create(command());
    const admin: Actor = { type: 'user', id: 'admin-1', email: 'admin@example.com' };
    const revoked = await s.service.revoke(grant.id, admin);
    expect(revoked).toMatchObject({ status: 'REVOKED', endReason: 'REVOKED', revokedBy: admin });
    expect(s.jobs.runNowAsked).toEqual([grant.id]);
    await expect(s.service.revoke(grant.id, SYSTEM_ACTOR)).resolves.toEqual(revoked);
    expect(s.jobs.runNowAsked).toHaveLength(1);
  });

  it("extends an active grant: the target's expiry (plus grace) and the revocation job move together", async () => {
    const s = setup();
    const { grant } = await s.service.create(command());
    const later = new Date(Date.now() + 7_200_000);
    const extended = await s.service.extend(grant.id, later.toISOString());
    expect(extended.expiresAt).toBe(later.toISOString());
    expect(s.target.validUntil.get(grant.roleName)).toEqual(new Date(later.getTime() + GRACE_SECONDS * 1000));
    expect(s.jobs.due.get(grant.id)).toEqual(later);
    await expect(s.service.extend(grant.id, grant.expiresAt)).rejects.toMatchObject({ code: ErrorCode.ValidationFailed });
  });

  it('gives an active grant a new password, set on the target and stored sealed; an ended grant has none', async () => {
    const s = setup();
    const { grant, credentials } = await s.service.create(command());
    expect(s.target.iterations.get(grant.roleName)).toBe(SCRAM_ITERATIONS);
    s.target.iterations.delete(grant.roleName);
    const reset = await s.service.resetCredentials(grant.id);
    expect(reset.credentials!.password).not.toBe(credentials!.password);
    expect(s.target.passwords.get(grant.roleName)).toBe(reset.credentials!.password);
    // The reset's verifier takes the configured iterations too (GRANT_SCRAM_ITERATIONS).
    expect(s.target.iterations.get(grant.roleName)).toBe(SCRAM_ITERATIONS);
    await s.service.revoke(grant.id, SYSTEM_ACTOR);
    await expect(s.service.resetCredentials(grant.id)).rejects.toMatchObject({ code: ErrorCode.Conflict });
  });
});
