// The orchestration of access requests (RequestsService and GrantLifecycle) with everything around
// it replaced by in-memory fakes of its ports: the request rows, the active flows, the people, the
// grant jobs, the bus (provisioning, catalog, discovery answer here, checked against their
// contracts both ways like the real bus) and the audit trail. No I/O, nothing timed.
import type { z } from 'zod';
import { AccessFlowInput, AppException, Contracts, ErrorCode } from '@latchkey/contracts';
import type {
  AccessFlow,
  AccessRequestStatus,
  AuditEntryInput,
  Caller,
  Credentials,
  EncryptedEnvelope,
  EventContract,
  Grant,
  Integration,
  RequestContract,
  Resource,
  ValidAccessRequest,
} from '@latchkey/contracts';
import { ConnectorClient, createLogger, ServiceMetrics } from '@latchkey/messaging';
import { MasterKey } from '@latchkey/secrets';
import { AuditTrail } from '../audit/audit-trail';
import type { PreparedAudit } from '../audit/audit-trail';
import type { Tx } from '../control-database/transactions.repository';
import { PeopleDirectory } from '../flows/approvers';
import type { Person } from '../flows/approvers';
import type { AccessRequestEntity } from './access-request.entity';
import { GrantLifecycle, INLINE_GRANT_SAFETY_DELAY_MS, requestIdOf, RevealOnce } from './grant-lifecycle.service';
import { RecentResources } from './recent-resources';
import { RequestMetrics } from './request.metrics';
import { ActiveFlows, BadRequestPageTokenError, Bus, GrantJobs, RequestStore } from './requests.ports';
import type { DecisionFields, GrantedFields, RequestPageQuery } from './requests.ports';
import { RequestsService } from './requests.service';

const id = (group: string, n: number) => `00000000-0000-4000-${group}-${String(n).padStart(12, '0')}`;
const INTEGRATION = id('8000', 1);
const ORDERS = id('9000', 1);
const person = (n: number, email: string, groups: string[], role: Caller['role'] = 'user'): Caller => ({
  userId: id('a000', n),
  email,
  role,
  groups,
  attributes: {},
});
const ana = person(1, 'ana@example.com', ['analysts']);
const bo = person(2, 'bo@example.com', ['dba']);
const cy = person(3, 'cy@example.com', ['security']);
const admin = person(4, 'admin@example.com', [], 'admin');
const stranger = person(5, 'eve@example.com', ['analysts']);
const PEOPLE = [ana, bo, cy, admin, stranger];

const TX: Tx = { of: 'control-database' };

/** The rows, copied in and out as a database would; a transaction that throws leaves them as they were. */
class FakeRequests implements RequestStore {
  readonly rows = new Map<string, AccessRequestEntity>();
  private made = 0;

  /** `audit`: where the entries written with a change (the one-statement writes) land. */
  constructor(private readonly audit: FakeAudit) {}

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const before = structuredClone(this.rows);
    try {
      return await work(TX);
    } catch (err) {
      this.rows.clear();
      for (const [key, row] of before) this.rows.set(key, row);
      throw err;
    }
  }

  async findById(requestId: string) {
    const row = this.rows.get(requestId);
    return row ? structuredClone(row) : null;
  }

  async findByIds(ids: readonly string[]) {
    return ids.flatMap((id) => (this.rows.has(id) ? [structuredClone(this.rows.get(id)!)] : []));
  }

  lock(_tx: Tx, requestId: string) {
    return this.findById(requestId);
  }

  async insert(_tx: Tx, row: Omit<AccessRequestEntity, 'id'>) {
    const saved = { ...structuredClone(row), id: id('b000', ++this.made) };
    this.rows.set(saved.id, saved);
    return structuredClone(saved);
  }

  async update(_tx: Tx, requestId: string, fields: Partial<AccessRequestEntity>) {
    const row = this.rows.get(requestId);
    if (row) this.rows.set(requestId, { ...row, ...structuredClone(fields), updatedAt: new Date() });
  }

  async insertAudited(row: AccessRequestEntity, audit: PreparedAudit) {
    this.rows.set(row.id, structuredClone(row));
    this.audit.record(audit);
  }

  async recordGranted(requestId: string, from: AccessRequestStatus, fields: GrantedFields, audit: PreparedAudit) {
    const row = this.rows.get(requestId);
    if (!row || row.status !== from) return false;
    this.rows.set(requestId, { ...row, ...structuredClone(fields), statusReason: null, updatedAt: new Date() });
    this.audit.record(audit);
    return true;
  }

  async recordDecision(requestId: string, read: DecisionFields, fields: DecisionFields, audit: PreparedAudit) {
    const row = this.rows.get(requestId);
    const asRead = (r: DecisionFields) => JSON.stringify([r.status, r.approverGroups, r.approvals]);
    if (!row || asRead(row) !== asRead(read)) return false;
    this.rows.set(requestId, { ...row, ...structuredClone(fields), updatedAt: new Date() });
    this.audit.record(audit);
    return true;
  }

  async recordPasswordViewed(requestId: string, readEnvelope: EncryptedEnvelope, viewedAt: Date, audit: PreparedAudit) {
    const row = this.rows.get(requestId);
    const unread = row?.status === 'GRANTED' && JSON.stringify(row.passwordEnvelope) === JSON.stringify(readEnvelope) && row.passwordViewedAt === null;
    if (!row || !unread) return false;
    this.rows.set(requestId, { ...row, passwordViewedAt: viewedAt, passwordEnvelope: null, updatedAt: viewedAt });
    this.audit.record(audit);
    return true;
  }

  async page(query: RequestPageQuery) {
    if (query.pageToken) throw new BadRequestPageTokenError();
    const items = [...this.rows.values()].filter((r) => !query.visibleTo || r.requesterId === query.visibleTo || r.approverIds.includes(query.visibleTo));
    return { items: structuredClone(items) };
  }

  async findPendingPastDeadline() {
    return [];
  }

  async liveCounts() {
    return { pending: { under_5m: 0, '5m_to_1h': 0, '1h_to_1d': 0, over_1d: 0 }, unviewed: 0 };
  }

  row(requestId: string): AccessRequestEntity {
    const row = this.rows.get(requestId);
    if (!row) throw new Error(`no request ${requestId}`);
    return row;
  }
}

class FakeFlows implements ActiveFlows {
  constructor(readonly flows: AccessFlow[]) {}
  async activeFor(integrationIds: string[]) {
    return this.flows.filter((f) => f.targets.some((t) => integrationIds.includes(t.integrationId)));
  }
}

class FakePeople implements PeopleDirectory {
  async withAttribute(attribute: string, values: string[]): Promise<Person[]> {
    const holds = (p: Caller) => (attribute === 'group' ? p.groups.some((g) => values.includes(g)) : attribute === 'user' && values.includes(p.email));
    return PEOPLE.filter(holds).map((p) => ({ id: p.userId, email: p.email }));
  }
}

/** Jobs by request id, with their delay; `down` makes Redis unreachable. */
class FakeJobs implements GrantJobs {
  readonly waiting = new Map<string, number>();
  async enqueue(requestId: string, delayMs = 0) {
    this.waiting.set(requestId, delayMs);
  }
  async remove(requestId: string) {
    this.waiting.delete(requestId);
  }
}

class FakeAudit implements AuditTrail {
  readonly entries: AuditEntryInput[] = [];
  /** Prepared entries handed out and not yet written by a store. */
  private readonly unwritten = new Set<PreparedAudit>();
  async append(entry: AuditEntryInput) {
    return (await this.appendAll([entry]))[0]!;
  }
  async appendAll(entries: AuditEntryInput[]) {
    return entries.map((entry) => ({ id: entry.action, seq: this.entries.push(entry) }));
  }
  prepare(entries: AuditEntryInput[]): PreparedAudit {
    const prepared = { entries: [...entries], rows: [] };
    this.unwritten.add(prepared);
    return prepared;
  }
  /** A store wrote prepared entries with its change. */
  record(prepared: PreparedAudit) {
    if (!this.unwritten.delete(prepared)) throw new Error('these entries were not prepared, or were written twice');
    this.entries.push(...prepared.entries);
  }
  written() {
    // The real trail has its sequencer link them; nothing to do here.
  }
  actionsFor(requestId: string) {
    return this.entries.filter((e) => e.targetId === requestId).map((e) => e.action);
  }
}

type Handler = (payload: unknown, options: { connectorId?: string }) => Promise<unknown>;

/** Answers as the other services would, through the contracts: a fake's wrong answer fails like a real one. */
class FakeBus implements Bus {
  readonly events: Array<{ subject: string; payload: unknown }> = [];
  private readonly handlers = new Map<string, Handler>();

  answer<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    handler: (payload: z.output<Req>, options: { connectorId?: string }) => Promise<z.input<Res>>,
  ): void {
    this.handlers.set(contract.subject, async (payload, options) => handler(contract.request.parse(payload), options));
  }

  async request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options: { connectorId?: string } = {},
  ): Promise<z.output<Res>> {
    const handler = this.handlers.get(contract.subject);
    if (!handler) throw new AppException(ErrorCode.ServiceUnavailable, `nothing answers ${contract.subject}`);
    return contract.response.parse(await handler(payload, options));
  }

  async publish<P extends z.ZodType>(contract: EventContract<P>, payload: z.input<P>): Promise<void> {
    this.events.push({ subject: contract.subject, payload: contract.payload.parse(payload) });
  }

  statusesOf(requestId: string) {
    const changes = this.events
      .filter((e) => e.subject === Contracts.accessRequestChanged.subject)
      .map((e) => Contracts.accessRequestChanged.payload.parse(e.payload));
    return changes.filter((c) => c.id === requestId).map((c) => c.status);
  }
}

/** Provisioning: one grant per idempotency key, as the real one keeps it. */
class FakeProvisioning {
  readonly grants = new Map<string, Grant>();
  readonly revoked: string[] = [];
  creates = 0;
  /** Thrown by the next creates while set. */
  failure: AppException | null = null;
  /** Runs before a create answers (something else happening meanwhile). */
  meanwhile: ((requestId: string) => Promise<void>) | null = null;

  constructor(bus: FakeBus) {
    bus.answer(Contracts.provisioningGrantsCreate, async (req) => {
      this.creates++;
      if (this.failure) throw this.failure;
      await this.meanwhile?.(requestIdOf(req.idempotencyKey)!);
      const now = new Date().toISOString();
      const grant: Grant = this.grants.get(req.idempotencyKey) ?? {
        id: id('b100', this.grants.size + 1),
        idempotencyKey: req.idempotencyKey,
        integrationId: req.integrationId,
        connectorId: 'local',
        identity: req.identity,
        roleName: 'lk_ana',
        items: req.items,
        status: 'ACTIVE',
        expiresAt: req.expiresAt,
        createdAt: now,
        grantedAt: now,
        endedAt: null,
        attempts: 0,
        lastError: null,
      };
      this.grants.set(req.idempotencyKey, grant);
      const credentials: Credentials = {
        host: 'db.example.com',
        port: 5432,
        database: 'shop',
        username: 'lk_ana',
        password: 'first-password',
        sslmode: 'require',
      };
      return { grant, credentials };
    });
    bus.answer(Contracts.provisioningGrantsRevoke, async (req) => {
      const grant = [...this.grants.values()].find((g) => g.id === req.id);
      if (!grant) throw new AppException(ErrorCode.NotFound, `No grant ${req.id}.`);
      this.revoked.push(req.id);
      const ended: Grant = { ...grant, status: 'REVOKED', endedAt: new Date().toISOString(), endReason: 'REVOKED', revokedBy: req.revokedBy };
      this.grants.set(grant.idempotencyKey, ended);
      return ended;
    });
  }
}

const integration: Integration = {
  id: INTEGRATION,
  name: 'shop',
  type: 'postgresql',
  connectorId: 'local',
  connectedResourceTypes: ['postgresql-table'],
  config: { dbname: 'shop' },
  secret: { store: 'builtin' },
  credentialRotationDays: null,
  customAccessDetails: 'Connect from the office network.',
  integrationOwners: [],
  resourceOwnerMappings: [],
  managedBy: null,
  status: 'ACTIVE',
  statusReason: null,
  lastTest: null,
  rotation: { lastRotatedAt: null, nextDueAt: null, lastAttemptAt: null, lastResult: null, lastError: null, pending: false },
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};

const orders: Resource = {
  id: ORDERS,
  integrationId: INTEGRATION,
  type: 'postgresql-table',
  kind: 'table',
  path: 'shop/sales/orders',
  parts: { database: 'shop', schema: 'sales', name: 'orders' },
  owner: null,
  comment: null,
  tags: {},
  apiTags: {},
  permissions: ['READ_ONLY', 'READ_WRITE'],
  managed: false,
  unrequestableReason: null,
  discoveredAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};

const flow = (n: number, approvers: unknown, settings: Record<string, unknown> = {}): AccessFlow => ({
  ...AccessFlowInput.parse({
    name: `flow ${n}`,
    requestors: { conditions: [{ type: 'group', match: 'is', values: ['analysts'] }] },
    targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
    approvers,
    maxDurationMinutes: 60,
    settings: { justificationRequired: false, ...settings },
  }),
  id: id('b200', n),
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});
const AUTOMATIC = flow(1, null);
const DBA_AND_SECURITY = flow(2, {
  mode: 'ALL_OF',
  groups: [
    { type: 'group', values: ['dba'] },
    { type: 'group', values: ['security'] },
  ],
});

const readOrders: ValidAccessRequest = {
  items: [{ resourceId: ORDERS, permission: 'READ_ONLY' }],
  justification: 'monthly report',
  durationMinutes: 30,
  dryRun: false,
  waitSeconds: 0,
  revealCredentials: false,
};

function world(flows: AccessFlow[]) {
  const audit = new FakeAudit();
  const store = new FakeRequests(audit);
  const jobs = new FakeJobs();
  const bus = new FakeBus();
  const provisioning = new FakeProvisioning(bus);
  bus.answer(Contracts.catalogIntegrationsGet, async ({ id: wanted }) => {
    if (wanted !== INTEGRATION) throw new AppException(ErrorCode.NotFound, `No integration ${wanted}.`);
    return integration;
  });
  bus.answer(Contracts.discoveryResourcesGet, async ({ id: wanted }) => {
    if (wanted !== ORDERS) throw new AppException(ErrorCode.NotFound, `No resource ${wanted}.`);
    return orders;
  });
  const masterKey = new MasterKey([Buffer.alloc(32, 7)]);
  const metrics = new RequestMetrics(new ServiceMetrics('access'), store);
  const logger = createLogger('access', 'silent');
  const connectors = new ConnectorClient(bus);
  const lifecycle = new GrantLifecycle(store, jobs, bus, connectors, audit, masterKey, metrics, logger);
  const service = new RequestsService(
    store,
    new FakeFlows(flows),
    new FakePeople(),
    bus,
    connectors,
    audit,
    jobs,
    lifecycle,
    masterKey,
    metrics,
    logger,
    10_080,
    new RecentResources(),
  );
  /** Makes a request and lets its inline grant, if any, finish. */
  const request = async (caller: Caller = ana) => {
    const [made] = (await service.create(caller, readOrders)).requests;
    await lifecycle.drain();
    return made.id!;
  };
  return { store, jobs, bus, audit, provisioning, lifecycle, service, request };
}

/** The code and details of the AppException `work` fails with, or what else happened. */
async function failure(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (err) {
    return err instanceof AppException ? { code: err.code, details: err.details } : err;
  }
  return 'no error';
}

describe('RequestsService with GrantLifecycle', () => {
  it('grants a request of an automatic flow at once and drops its safety-net job; the password is shown once', async () => {
    const { store, jobs, bus, audit, provisioning, service, request } = world([AUTOMATIC]);
    const requestId = await request();

    expect(store.row(requestId)).toMatchObject({
      status: 'GRANTED',
      approvalMode: 'AUTOMATIC',
      grantId: id('b100', 1),
      login: { username: 'lk_ana', customAccessDetails: 'Connect from the office network.' },
    });
    expect(provisioning.creates).toBe(1);
    expect(jobs.waiting.has(requestId)).toBe(false);
    expect(bus.statusesOf(requestId)).toEqual(['APPROVED', 'GRANTED']);
    expect(audit.actionsFor(requestId)).toEqual(['request.created', 'request.approved', 'request.granted']);

    expect((await service.accessDetails(ana, requestId)).password).toBe('first-password');
    expect(await service.accessDetails(ana, requestId)).toMatchObject({ password: null, username: 'lk_ana' });
    expect(store.row(requestId).passwordEnvelope).toBeNull();
  });

  it('hands the password in the answer to a request that waits for its grant, once, and audits that read', async () => {
    const { store, audit, service, lifecycle } = world([AUTOMATIC]);
    const answer = await service.create(ana, { ...readOrders, waitSeconds: 5, revealCredentials: true });
    await lifecycle.drain();
    const requestId = answer.requests[0].id!;
    expect(answer.requests[0]).toMatchObject({ status: 'GRANTED', passwordViewedAt: expect.any(String) });
    expect(answer.accessDetails).toEqual([expect.objectContaining({ requestId, username: 'lk_ana', password: 'first-password' })]);
    expect(store.row(requestId)).toMatchObject({ status: 'GRANTED', passwordEnvelope: null });
    expect(store.row(requestId).passwordViewedAt).not.toBeNull();
    expect(audit.actionsFor(requestId)).toEqual(['request.created', 'request.approved', 'request.granted', 'request.credentials-viewed']);
    expect(await service.accessDetails(ana, requestId)).toMatchObject({ password: null, passwordViewedAt: expect.any(String) });
  });

  it('answers a waiting request as it stands at the deadline, and keeps the password for its one read when nobody waits for it any more', async () => {
    const { store, audit, service, lifecycle, provisioning } = world([AUTOMATIC]);
    let release: () => void = () => undefined;
    provisioning.meanwhile = () => new Promise<void>((resolve) => (release = resolve));
    const answer = await service.create(ana, { ...readOrders, waitSeconds: 1, revealCredentials: true });
    const requestId = answer.requests[0].id!;
    expect(answer.requests[0].status).toBe('APPROVED');
    expect(answer.accessDetails).toEqual([]);
    release();
    await lifecycle.drain();
    expect(store.row(requestId)).toMatchObject({ status: 'GRANTED', passwordViewedAt: null, passwordEnvelope: expect.anything() });
    expect(audit.actionsFor(requestId)).not.toContain('request.credentials-viewed');
    expect((await service.accessDetails(ana, requestId)).password).toBe('first-password');
  });

  it('waits for a password being recorded as read when the deadline passes meanwhile, so it reaches its reader', async () => {
    const { lifecycle } = world([AUTOMATIC]);
    const reveal = new RevealOnce({ type: 'user', id: ana.userId, email: ana.email });
    expect(reveal.claim()).toBe(true);
    const granted = { request: null, password: 'first-password' };
    const outcome = new Promise<typeof granted>((resolve) => setTimeout(() => resolve(granted), 50));
    expect(await lifecycle.settle(outcome, Date.now(), reveal)).toBe(granted);
    const unclaimed = new RevealOnce({ type: 'user', id: ana.userId, email: ana.email });
    expect(await lifecycle.settle(new Promise(() => undefined), Date.now(), unclaimed)).toEqual({ request: null, password: null });
    expect(unclaimed.claim()).toBe(false);
  });

  it('shows the password to one of two reads made at once, and audits that one read; the other finds it viewed under the lock', async () => {
    const { store, audit, service, request } = world([AUTOMATIC]);
    const requestId = await request();
    const reads = await Promise.all([service.accessDetails(ana, requestId), service.accessDetails(ana, requestId)]);
    expect(reads.map((r) => r.password).sort()).toEqual(['first-password', null]);
    expect(audit.actionsFor(requestId).filter((a) => a === 'request.credentials-viewed')).toHaveLength(1);
    expect(store.row(requestId)).toMatchObject({ passwordEnvelope: null, passwordViewedAt: expect.any(Date) });
  });

  it('keeps a request that needs approval waiting until the last approver group approves, then grants it', async () => {
    const { store, provisioning, jobs, lifecycle, service, request } = world([DBA_AND_SECURITY]);
    const requestId = await request();
    expect(store.row(requestId)).toMatchObject({ status: 'PENDING', approverIds: [bo.userId, cy.userId] });

    const first = await service.approve(bo, requestId, 'ok');
    expect(first.status).toBe('PENDING');
    expect(provisioning.creates).toBe(0);
    expect(jobs.waiting.size).toBe(0);

    expect((await service.approve(cy, requestId, undefined)).status).toBe('APPROVED');
    await lifecycle.drain();
    expect(store.row(requestId)).toMatchObject({ status: 'GRANTED', approvals: [{ email: bo.email }, { email: cy.email }] });
    expect(provisioning.creates).toBe(1);
  });

  it('counts both of two approvals made at once: the one written second finds the row changed and decides again under the lock', async () => {
    const { store, audit, provisioning, lifecycle, service, request } = world([DBA_AND_SECURITY]);
    const requestId = await request();
    const answers = await Promise.all([service.approve(bo, requestId, 'ok'), service.approve(cy, requestId, 'fine')]);
    expect(answers.map((a) => a.status).sort()).toEqual(['APPROVED', 'PENDING']);
    await lifecycle.drain();
    expect(store.row(requestId)).toMatchObject({ status: 'GRANTED', approvals: [{ email: bo.email }, { email: cy.email }] });
    expect(audit.actionsFor(requestId).filter((a) => a === 'request.approved')).toHaveLength(2);
    expect(provisioning.creates).toBe(1);
    await expect(failure(service.approve(bo, requestId, 'again'))).resolves.toMatchObject({ code: ErrorCode.Conflict });
  });

  it('leaves the job in place when the inline grant cannot be made now, and the job makes it later', async () => {
    const { store, jobs, provisioning, lifecycle, request } = world([AUTOMATIC]);
    provisioning.failure = new AppException(ErrorCode.ConnectorUnavailable, 'connector local is not answering');
    const requestId = await request();

    expect(store.row(requestId)).toMatchObject({ status: 'APPROVED', statusReason: 'waiting for provisioning: connector local is not answering' });
    expect(jobs.waiting.get(requestId)).toBe(INLINE_GRANT_SAFETY_DELAY_MS);

    provisioning.failure = null;
    await lifecycle.runGrantJob(requestId);
    expect(store.row(requestId)).toMatchObject({ status: 'GRANTED', statusReason: null });
  });

  it('fails a request provisioning refuses for good, and drops its job', async () => {
    const { store, jobs, audit, provisioning, request } = world([AUTOMATIC]);
    provisioning.failure = new AppException(ErrorCode.ValidationFailed, 'the table is gone');
    const requestId = await request();

    expect(store.row(requestId)).toMatchObject({ status: 'FAILED', statusReason: 'the grant could not be made: the table is gone' });
    expect(jobs.waiting.has(requestId)).toBe(false);
    expect(audit.actionsFor(requestId).at(-1)).toBe('request.failed');
  });

  it('takes the grant back when the request is revoked while the grant is being made', async () => {
    const { store, provisioning, audit, service, request } = world([AUTOMATIC]);
    provisioning.meanwhile = async (requestId) => {
      expect((await service.revoke(ana, requestId, 'not needed after all')).status).toBe('REVOKING');
    };
    const requestId = await request();

    expect(provisioning.revoked).toEqual([id('b100', 1)]);
    expect(store.row(requestId)).toMatchObject({ status: 'REVOKED', grantId: id('b100', 1), revokedBy: { type: 'user', id: ana.userId } });
    expect(audit.actionsFor(requestId)).toEqual(['request.created', 'request.approved', 'request.revocation-requested', 'request.revoked']);
  });

  it('does nothing when the grant job runs again for a request already GRANTED, or the same end is reported twice', async () => {
    const { store, provisioning, audit, lifecycle, service, request } = world([AUTOMATIC]);
    const requestId = await request();
    const granted = structuredClone(store.row(requestId));

    await lifecycle.runGrantJob(requestId);
    expect(provisioning.creates).toBe(1);
    expect(store.row(requestId)).toEqual(granted);

    await service.revoke(ana, requestId, undefined);
    const ended = [...provisioning.grants.values()][0];
    await lifecycle.sync(ended);
    expect(store.row(requestId).status).toBe('REVOKED');
    expect(audit.actionsFor(requestId).filter((a) => a === 'request.revoked')).toHaveLength(1);
  });

  it('reads several requests at once: those that exist and the caller may see, each once', async () => {
    const { service, request } = world([AUTOMATIC]);
    const first = await request();
    const second = await request();
    const missing = id('b000', 98);
    const ids = (items: Array<{ id: string | null }>) => items.map((r) => r.id).sort();

    expect(ids(await service.getMany(admin, [first, missing, second, first]))).toEqual([first, second].sort());
    // The same view `get` answers.
    expect(await service.getMany(admin, [second, first])).toEqual(expect.arrayContaining([await service.get(admin, first), await service.get(admin, second)]));
    expect(ids(await service.getMany(ana, [first, second]))).toEqual([first, second].sort());
    expect(await service.getMany(stranger, [first, second])).toEqual([]);
    expect(await service.getMany(admin, [])).toEqual([]);
  });

  it('answers with the code a person can act on', async () => {
    const granted = world([AUTOMATIC]);
    const requestId = await granted.request();

    expect(await failure(granted.service.get(stranger, requestId))).toMatchObject({ code: ErrorCode.NotFound });
    expect(await failure(granted.service.get(ana, id('b000', 99)))).toMatchObject({ code: ErrorCode.NotFound });
    expect(await failure(granted.service.reject(admin, requestId, 'no'))).toEqual({ code: ErrorCode.Conflict, details: { status: 'GRANTED' } });
    expect(await failure(granted.service.extend(ana, requestId, 15))).toMatchObject({
      code: ErrorCode.Conflict,
      details: { reason: 'EXTENSION_LIMIT_REACHED' },
    });
    expect(await failure(granted.service.accessDetails(admin, requestId))).toMatchObject({ code: ErrorCode.Forbidden });
    expect(await failure(granted.service.list(ana, { pageSize: 10, pageToken: 'not-a-token' }))).toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { issues: [{ field: 'pageToken' }] },
    });
    expect(await failure(granted.service.create(ana, { ...readOrders, items: [{ resourceId: id('9000', 2), permission: 'READ_ONLY' }] }))).toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { issues: [{ field: 'items.0.resourceId', rule: 'must be the id of a discovered resource' }] },
    });
    expect(await failure(granted.service.create(bo, readOrders))).toMatchObject({ code: ErrorCode.Forbidden, details: { denials: [expect.anything()] } });

    const pending = world([DBA_AND_SECURITY]);
    const waiting = await pending.request();
    expect(await failure(pending.service.approve(ana, waiting, undefined))).toMatchObject({ code: ErrorCode.Forbidden });
    expect(await failure(pending.service.approve(stranger, waiting, undefined))).toMatchObject({ code: ErrorCode.NotFound });
    await pending.service.approve(bo, waiting, 'ok');
    expect(await failure(pending.service.approve(bo, waiting, 'ok'))).toMatchObject({ code: ErrorCode.Conflict });

    const reasoned = world([flow(3, { mode: 'ANY_OF', groups: [{ type: 'group', values: ['dba'] }] }, { approverReasonRequired: true })]);
    const needsReason = await reasoned.request();
    expect(await failure(reasoned.service.approve(bo, needsReason, undefined))).toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { issues: [{ field: 'reason' }] },
    });
    expect(reasoned.store.row(needsReason).status).toBe('PENDING');
  });
});
