import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SYSTEM_ACTOR } from '@latchkey/contracts';
import { createLogger } from '@latchkey/messaging';
import { createServiceDataSource, migrate } from '@latchkey/persistence';
import { encryptSecret, MasterKey } from '@latchkey/secrets';
import { createScratchDatabase, type ScratchDatabase } from '@latchkey/testing';
import { AUDIT_ENTITIES } from '../audit/audit.module';
import { AuditRepository } from '../audit/audit.repository';
import { AuditService } from '../audit/audit.service';
import { AuditSequencer } from '../audit/audit-sequencer';
import { MIGRATIONS } from '../migrations';
import { AccessRequestEntity } from './access-request.entity';
import { AccessRequestsRepository } from './access-requests.repository';
import type { GrantedFields } from './requests.ports';
import { requestAuditEntry } from './request-view';

/**
 * The hot path's one-statement writes on a real control database: the change and its audit
 * entries together, or, when the row moved on, neither.
 */
let scratch: ScratchDatabase;
let sql: Client;
let dataSource: DataSource;
let requests: AccessRequestsRepository;
let audit: AuditService;
let sequencer: AuditSequencer;
const masterKey = new MasterKey([Buffer.alloc(32, 3)]);
const ana = { type: 'user' as const, id: randomUUID(), email: 'ana@example.com' };

/** A request of an automatic flow as `create` makes it: APPROVED, nothing granted yet. */
function approvedRow(): AccessRequestEntity {
  const now = new Date();
  return {
    id: randomUUID(),
    status: 'APPROVED',
    requesterId: ana.id,
    requesterEmail: ana.email,
    flowId: randomUUID(),
    flowName: 'orders readers',
    flowLimits: { maxDurationMinutes: 60, maxExtensions: 1, approverReasonRequired: false, pendingExpiryMinutes: 60 },
    integrationId: randomUUID(),
    items: [
      {
        resourceId: randomUUID(),
        permission: 'READ_ONLY',
        resourceType: 'postgresql-table',
        path: 'shop/public/orders',
        grant: { resourceType: 'postgresql-table', database: 'shop', schema: 'public', table: 'orders', permission: 'READ_ONLY' },
      },
    ],
    justification: null,
    durationMinutes: 30,
    approvalMode: 'AUTOMATIC',
    approverGroups: [],
    approverIds: [randomUUID()],
    approvals: [],
    createdAt: now,
    updatedAt: now,
    decidedAt: now,
    grantedAt: null,
    expiresAt: null,
    endedAt: null,
    extensions: 0,
    grantId: null,
    statusReason: null,
    login: null,
    passwordEnvelope: null,
    passwordViewedAt: null,
    revokedBy: null,
  };
}

function grantedFields(): GrantedFields {
  return {
    status: 'GRANTED',
    grantId: randomUUID(),
    grantedAt: new Date(),
    expiresAt: new Date(Date.now() + 30 * 60_000),
    login: { host: 'db.example.com', port: 5432, database: 'shop', username: 'lk_ana', sslmode: 'require', customAccessDetails: null },
    passwordEnvelope: encryptSecret({ username: 'lk_ana', password: 'the-password' }, masterKey),
    passwordViewedAt: null,
  };
}

/** The audit log's entries of a request, in the order they were written. */
async function entriesOf(id: string): Promise<Array<{ action: string; details: Record<string, unknown> }>> {
  const { rows } = await sql.query('SELECT action, details FROM access.audit_log WHERE target_id = $1 ORDER BY queued', [id]);
  return rows;
}

beforeAll(async () => {
  scratch = await createScratchDatabase('latchkey_access_requests_int');
  const url = scratch.url;
  dataSource = createServiceDataSource({ url, schema: 'access', entities: [AccessRequestEntity, ...AUDIT_ENTITIES], migrations: MIGRATIONS, poolSize: 5 });
  await migrate(dataSource, 'access');
  const auditRepository = new AuditRepository(dataSource);
  sequencer = new AuditSequencer(auditRepository, createLogger('access', 'silent'));
  audit = new AuditService(auditRepository, sequencer);
  requests = new AccessRequestsRepository(dataSource);
  sql = new Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await sequencer?.onModuleDestroy();
  await dataSource?.destroy();
  await scratch?.drop();
});

describe('AccessRequestsRepository, one statement per hot write', () => {
  it('inserts a request with its entries in order, reads back as written, and the chain links and verifies them', async () => {
    const row = approvedRow();
    const entries = [
      requestAuditEntry('request.created', ana, row, { items: ['READ_ONLY shop/public/orders'], password: 'not-a-secret-to-keep' }),
      requestAuditEntry('request.approved', SYSTEM_ACTOR, row, { automatic: true }),
    ];
    await requests.insertAudited(row, audit.prepare(entries));

    expect(await requests.findById(row.id)).toEqual(row);
    const written = await entriesOf(row.id);
    expect(written.map((e) => e.action)).toEqual(['request.created', 'request.approved']);
    // Redacted as an append is: a detail named like a secret keeps only that it was there.
    expect(written[0].details.password).not.toBe('not-a-secret-to-keep');
    expect(await audit.verify()).toMatchObject({ ok: true, firstBroken: null });
  });

  it('turns an APPROVED request GRANTED with its entry; one that moved on (REVOKING) is left as it is, with no entry', async () => {
    const row = approvedRow();
    await requests.insertAudited(row, audit.prepare([requestAuditEntry('request.created', ana, row, {})]));
    const fields = grantedFields();
    const entry = () => audit.prepare([requestAuditEntry('request.granted', SYSTEM_ACTOR, { ...row, ...fields }, { grantId: fields.grantId })]);

    expect(await requests.recordGranted(row.id, 'APPROVED', fields, entry())).toBe(true);
    expect(await requests.findById(row.id)).toMatchObject({
      status: 'GRANTED',
      grantId: fields.grantId,
      login: fields.login,
      passwordEnvelope: fields.passwordEnvelope,
    });
    expect((await entriesOf(row.id)).map((e) => e.action)).toEqual(['request.created', 'request.granted']);

    const revoking = approvedRow();
    await requests.insertAudited(revoking, audit.prepare([requestAuditEntry('request.created', ana, revoking, {})]));
    await sql.query("UPDATE access.access_requests SET status = 'REVOKING' WHERE id = $1", [revoking.id]);
    expect(await requests.recordGranted(revoking.id, 'APPROVED', grantedFields(), entry())).toBe(false);
    expect(await requests.findById(revoking.id)).toMatchObject({ status: 'REVOKING', grantId: null, login: null, passwordEnvelope: null });
    expect((await entriesOf(revoking.id)).map((e) => e.action)).toEqual(['request.created']);
  });

  it('marks the password read once, if it is still the one read; a password reset meanwhile or a second read writes nothing', async () => {
    const row = approvedRow();
    await requests.insertAudited(row, audit.prepare([requestAuditEntry('request.created', ana, row, {})]));
    await requests.recordGranted(row.id, 'APPROVED', grantedFields(), audit.prepare([requestAuditEntry('request.granted', SYSTEM_ACTOR, row, {})]));
    const read = (await requests.findById(row.id))!;
    const viewed = () => audit.prepare([requestAuditEntry('request.credentials-viewed', ana, read, {})]);

    // Read before a reset that came meanwhile: the password read is not the one stored.
    const stale = grantedFields().passwordEnvelope!;
    expect(await requests.recordPasswordViewed(row.id, stale, new Date(), viewed())).toBe(false);
    expect((await requests.findById(row.id))!.passwordEnvelope).toEqual(read.passwordEnvelope);

    const at = new Date();
    expect(await requests.recordPasswordViewed(row.id, read.passwordEnvelope!, at, viewed())).toBe(true);
    expect(await requests.findById(row.id)).toMatchObject({ passwordEnvelope: null, passwordViewedAt: at });
    expect(await requests.recordPasswordViewed(row.id, read.passwordEnvelope!, new Date(), viewed())).toBe(false);
    expect((await entriesOf(row.id)).map((e) => e.action)).toEqual(['request.created', 'request.granted', 'request.credentials-viewed']);
  });

  it('writes a decision only while status, approver groups and approvals are as read: the second of two decisions on one read writes nothing', async () => {
    const group = { type: 'group' as const, values: ['dba'], source: null, approverIds: [randomUUID()], approverEmails: ['bo@example.com'], satisfiedBy: null };
    const row: AccessRequestEntity = { ...approvedRow(), status: 'PENDING', approvalMode: 'ANY_OF', approverGroups: [group], decidedAt: null };
    await requests.insertAudited(row, audit.prepare([requestAuditEntry('request.created', ana, row, {})]));
    const read = (await requests.findById(row.id))!;
    const approval = (email: string) => ({
      userId: randomUUID(),
      email,
      decision: 'APPROVED' as const,
      reason: null,
      at: new Date().toISOString(),
      asAdmin: false,
    });
    const decided = new Date();
    const bo = {
      approverGroups: [{ ...group, satisfiedBy: 'bo@example.com' }],
      approvals: [approval('bo@example.com')],
      status: 'APPROVED' as const,
      decidedAt: decided,
    };
    const entry = () => audit.prepare([requestAuditEntry('request.approved', ana, row, {})]);

    expect(await requests.recordDecision(row.id, read, bo, entry())).toBe(true);
    const admin = { ...bo, approvals: [approval('admin@example.com')] };
    expect(await requests.recordDecision(row.id, read, admin, entry())).toBe(false);
    expect(await requests.findById(row.id)).toMatchObject({ status: 'APPROVED', approvals: [{ email: 'bo@example.com' }], decidedAt: decided });
    expect((await entriesOf(row.id)).map((e) => e.action)).toEqual(['request.created', 'request.approved']);
  });

  it('inserts the requests of one turn together: each reads back as written, with its own entries in order', async () => {
    const group = {
      type: 'group' as const,
      values: ['dba'],
      source: null,
      approverIds: [randomUUID(), randomUUID()],
      approverEmails: ['bo@example.com'],
      satisfiedBy: null,
    };
    const pending: AccessRequestEntity = {
      ...approvedRow(),
      status: 'PENDING',
      approvalMode: 'ANY_OF',
      approverGroups: [group],
      approverIds: group.approverIds,
      decidedAt: null,
      justification: 'incident 42',
    };
    const automatic = { ...approvedRow(), approverIds: [] };
    const third = approvedRow();
    const rows = [pending, automatic, third];
    const entriesFor = (r: AccessRequestEntity) =>
      r.status === 'APPROVED'
        ? [requestAuditEntry('request.created', ana, r, {}), requestAuditEntry('request.approved', SYSTEM_ACTOR, r, { automatic: true })]
        : [requestAuditEntry('request.created', ana, r, {})];
    await Promise.all(rows.map((r) => requests.insertAudited(r, audit.prepare(entriesFor(r)))));

    for (const r of rows) {
      expect(await requests.findById(r.id)).toEqual(r);
      expect((await entriesOf(r.id)).map((e) => e.action)).toEqual(entriesFor(r).map((e) => e.action));
    }
    const { rows: order } = await sql.query<{ target_id: string }>('SELECT target_id FROM access.audit_log WHERE target_id = ANY($1) ORDER BY queued', [
      rows.map((r) => r.id),
    ]);
    // Written in the order of the calls.
    expect(order.map((o) => o.target_id)).toEqual([pending.id, automatic.id, automatic.id, third.id, third.id]);
    expect(await audit.verify()).toMatchObject({ ok: true, firstBroken: null });
  });

  it('reads several requests by id in one statement: those that exist, each as findById reads it', async () => {
    const rows = [approvedRow(), approvedRow()];
    await Promise.all(rows.map((r) => requests.insertAudited(r, audit.prepare([requestAuditEntry('request.created', ana, r, {})]))));
    const found = await requests.findByIds([rows[1].id, randomUUID(), rows[0].id]);
    expect(found.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(rows.sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(await requests.findByIds([randomUUID()])).toEqual([]);
    expect(await requests.findByIds([])).toEqual([]);
  });

  it("fails only the request whose insert fails when the turn's statement fails", async () => {
    const [a, b] = [approvedRow(), approvedRow()];
    const broken = { ...approvedRow(), status: 'NOT-A-STATUS' } as unknown as AccessRequestEntity;
    const answers = await Promise.allSettled(
      [a, broken, b].map((r) => requests.insertAudited(r, audit.prepare([requestAuditEntry('request.created', ana, r, {})]))),
    );
    expect(answers.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await requests.findById(a.id)).toEqual(a);
    expect(await requests.findById(b.id)).toEqual(b);
    expect(await requests.findById(broken.id)).toBeNull();
    expect(await entriesOf(broken.id)).toEqual([]);
  });

  it('records the grants of one turn together: each as recordGranted alone would, a request named twice granted once', async () => {
    const [a, b, moved] = [approvedRow(), approvedRow(), approvedRow()];
    for (const r of [a, b, moved]) await requests.insertAudited(r, audit.prepare([requestAuditEntry('request.created', ana, r, {})]));
    await sql.query("UPDATE access.access_requests SET status = 'REVOKING' WHERE id = $1", [moved.id]);
    const fields = new Map([a, b, moved].map((r) => [r.id, grantedFields()]));
    const record = (r: AccessRequestEntity) =>
      requests.recordGranted(
        r.id,
        'APPROVED',
        fields.get(r.id)!,
        audit.prepare([requestAuditEntry('request.granted', SYSTEM_ACTOR, { ...r, ...fields.get(r.id)! }, { grantId: fields.get(r.id)!.grantId })]),
      );
    // a twice (the inline grant and its job at once), b once, moved on meanwhile.
    await expect(Promise.all([a, b, a, moved].map(record))).resolves.toEqual([true, true, false, false]);
    for (const r of [a, b]) {
      const f = fields.get(r.id)!;
      expect(await requests.findById(r.id)).toMatchObject({
        status: 'GRANTED',
        grantId: f.grantId,
        grantedAt: f.grantedAt,
        expiresAt: f.expiresAt,
        login: f.login,
        passwordEnvelope: f.passwordEnvelope,
        passwordViewedAt: null,
      });
      expect((await entriesOf(r.id)).map((e) => e.action)).toEqual(['request.created', 'request.granted']);
    }
    expect(await requests.findById(moved.id)).toMatchObject({ status: 'REVOKING', grantId: null, login: null });
    expect((await entriesOf(moved.id)).map((e) => e.action)).toEqual(['request.created']);
  });

  it('refuses to prepare an entry with a sourceId (only an append records one once)', () => {
    expect(() => audit.prepare([{ ...requestAuditEntry('request.created', ana, approvedRow(), {}), sourceId: 'outbox-1' }])).toThrow('sourceId');
  });
});
