import type { z } from 'zod';
import { Contracts, ErrorCode, SYSTEM_ACTOR } from '@latchkey/contracts';
import type { EventContract, RequestContract, RotationState, RotationSubject } from '@latchkey/contracts';
import type { ServiceInfo } from '@latchkey/messaging';
import type { TargetConnectionParams } from '@latchkey/pg-access';
import { decryptSecret, encryptSecret, generateMasterKey, loadMasterKey } from '@latchkey/secrets';
import { RotationService, type CatalogBus, type ConnectorCredentials, type RotationLog } from './rotation.service';

const integrationId = '3b241101-e2bb-4255-8caf-4136c566a962';
const DAY_MS = 86_400_000;
const USER = 'latchkey_conn';
const OLD = 'old-password-0123456789';

type Step = 'stage' | 'set' | 'verify' | 'restore' | 'promote';

/**
 * A catalog and a database that keep the two secret versions and the user's password the way the
 * real ones do, with a failure injectable at each step of a rotation.
 */
function setup(opts: { failAt?: Step[]; days?: number | null; secretSetAt?: string; pending?: string; dbPassword?: string; connectorId?: string } = {}) {
  const key = loadMasterKey({ LATCHKEY_MASTER_KEY: generateMasterKey() });
  const seal = (password: string) => encryptSecret({ username: USER, password }, key);
  const db = { password: opts.dbPassword ?? OLD, sets: [] as string[] };
  const catalog = {
    current: seal(OLD),
    pending: opts.pending
      ? { runId: '11111111-1111-4111-8111-111111111111', envelope: seal(opts.pending) }
      : (null as null | { runId: string; envelope: ReturnType<typeof seal> }),
    records: [] as Array<{ pending: string; result: string; detail?: string; trigger: string }>,
  };
  const fail = (step: Step) => {
    if (opts.failAt?.includes(step)) throw new Error(`injected failure at ${step}`);
  };
  const state = (): RotationState => ({
    lastRotatedAt: null,
    nextDueAt: null,
    lastAttemptAt: null,
    lastResult: null,
    lastError: null,
    pending: catalog.pending !== null,
  });
  const subject = (): RotationSubject => ({
    integrationId,
    name: 'db',
    connectorId: opts.connectorId ?? 'local',
    credentialRotationDays: opts.days === undefined ? 30 : opts.days,
    secretSetAt: opts.secretSetAt ?? new Date().toISOString(),
    pendingRunId: catalog.pending?.runId ?? null,
    rotation: state(),
    target: {
      integrationId,
      type: 'postgresql',
      config: { hostname: 'db.internal', port: 5432, dbname: 'app', sslmode: 'disable' },
      secret: { store: 'builtin', envelope: catalog.current },
      ...(catalog.pending ? { pendingSecret: { store: 'builtin' as const, envelope: catalog.pending.envelope } } : {}),
    },
  });
  const published: string[] = [];
  /** The catalog's side of each request, reading the payload as the real one does. */
  const answer = (to: string, payload: unknown): unknown => {
    switch (to) {
      case Contracts.catalogRotationGet.subject:
        return subject();
      case Contracts.catalogRotationStage.subject: {
        const { runId, envelope } = Contracts.catalogRotationStage.request.parse(payload);
        fail('stage');
        catalog.pending = { runId, envelope };
        return { staged: true };
      }
      case Contracts.catalogRotationRecord.subject: {
        const record = Contracts.catalogRotationRecord.request.parse(payload);
        if (record.pending === 'promote') fail('promote');
        const ours = catalog.pending?.runId === record.runId;
        if (record.pending === 'promote' && ours) catalog.current = catalog.pending!.envelope;
        if (ours && (record.pending === 'promote' || record.pending === 'discard')) catalog.pending = null;
        catalog.records.push({ pending: record.pending, result: record.result, detail: record.detail, trigger: record.trigger });
        return state();
      }
      default:
        throw new Error(`unexpected request ${to}`);
    }
  };
  const bus: CatalogBus = {
    async request<Req extends z.ZodType, Res extends z.ZodType>(contract: RequestContract<Req, Res>, payload: z.input<Req>): Promise<z.output<Res>> {
      return contract.response.parse(answer(contract.subject, payload));
    },
    async publish<P extends z.ZodType>(contract: EventContract<P>): Promise<void> {
      published.push(contract.subject);
    },
  };
  const login = (password: string) => password === db.password;
  const credentials: ConnectorCredentials = {
    lockConnectorUser: jest.fn(async (params: TargetConnectionParams) => {
      if (!login(params.password) && !(params.pendingPassword && login(params.pendingPassword))) throw new Error('password authentication failed');
      return {
        setPassword: async (_user: string, password: string) => {
          fail(db.sets.length === 0 ? 'set' : 'restore');
          db.sets.push(password);
          db.password = password;
        },
        release: async () => undefined,
      };
    }),
    canLogin: jest.fn(async (params: TargetConnectionParams) => {
      // The new password does not log in right after it was set.
      if (opts.failAt?.includes('verify') && params.password === db.sets[0] && db.password === db.sets[0]) return false;
      return login(params.password);
    }),
  };
  const info: ServiceInfo = { service: 'rotation', version: '1.3.0', instanceId: 'i-1', startedAt: 0, connectorId: 'local' };
  const logger = { info: jest.fn(), warn: jest.fn() } satisfies RotationLog;
  const service = new RotationService(bus, credentials, DAY_MS, info, logger, key);
  const current = () => decryptSecret(catalog.current, key).password;
  const staged = () => (catalog.pending ? decryptSecret(catalog.pending.envelope, key).password : null);
  return { service, db, catalog, published, current, staged, logger };
}

const run = (s: ReturnType<typeof setup>, trigger: 'manual' | 'scheduled' | 'repair' = 'manual') => s.service.run(integrationId, trigger, SYSTEM_ACTOR);

describe('RotationService', () => {
  it('rotates: the new password is staged, set, verified, then promoted; the database and the catalog agree', async () => {
    const s = setup();
    const result = await run(s);
    expect(result.result).toBe('rotated');
    expect(s.db.password).not.toBe(OLD);
    expect(s.current()).toBe(s.db.password);
    expect(s.catalog.pending).toBeNull();
    expect(s.catalog.records).toEqual([{ pending: 'promote', result: 'rotated', trigger: 'manual' }]);
    expect(s.published).toEqual([Contracts.rotationIntegrationRotated.subject]);
  });

  it.each([
    ['stage', 'none', /could not be stored/],
    ['set', 'discard', /database refused the new password/],
    ['verify', 'discard', /did not log in .*previous password was restored/],
  ] as const)('fails at %s keeping the working password, and records why', async (step, pending, reason) => {
    const s = setup({ failAt: [step] });
    const result = await run(s);
    expect(result).toMatchObject({ result: 'failed', detail: expect.stringMatching(reason) });
    expect(s.db.password).toBe(OLD);
    expect(s.current()).toBe(OLD);
    expect(s.catalog.pending).toBeNull();
    expect(s.catalog.records).toEqual([{ pending, result: 'failed', detail: expect.stringMatching(reason), trigger: 'manual' }]);
    expect(s.published).toEqual([Contracts.rotationIntegrationFailed.subject]);
  });

  it('keeps the staged password when it can restore neither; the next run makes them agree again', async () => {
    const s = setup({ failAt: ['verify', 'restore'] });
    const result = await run(s);
    expect(result).toMatchObject({ result: 'failed', detail: expect.stringMatching(/could not be restored/) });
    expect(s.catalog.records).toEqual([expect.objectContaining({ pending: 'keep', result: 'failed' })]);
    expect(s.staged()).toBe(s.db.password);

    // The next run finds the staged password logs in (the set did happen): promoted.
    const next = setup({ pending: s.db.password, dbPassword: s.db.password });
    expect((await run(next, 'repair')).result).toBe('repaired');
    expect(next.current()).toBe(next.db.password);
  });

  it('leaves the password staged when the catalog does not answer the promotion; the next run promotes it', async () => {
    const s = setup({ failAt: ['promote'] });
    await expect(run(s)).rejects.toThrow(/injected failure at promote/);
    expect(s.db.password).not.toBe(OLD);
    expect(s.catalog.pending).not.toBeNull();
    expect(s.current()).toBe(OLD);

    const next = setup({ pending: s.db.password, dbPassword: s.db.password });
    expect((await run(next, 'repair')).result).toBe('repaired');
    expect(next.current()).toBe(next.db.password);
    expect(next.catalog.records).toEqual([{ pending: 'promote', result: 'repaired', trigger: 'repair', detail: expect.stringMatching(/made current/) }]);
  });

  it('discards a staged password that never reached the database, then rotates when asked', async () => {
    const s = setup({ pending: 'staged-but-never-set-0123' });
    const result = await run(s);
    expect(result.result).toBe('rotated');
    expect(s.catalog.records.map((r) => [r.pending, r.result])).toEqual([
      ['discard', 'repaired'],
      ['promote', 'rotated'],
    ]);
    expect(s.current()).toBe(s.db.password);
  });

  it('touches nothing when neither password logs in, and says so', async () => {
    const s = setup({ pending: 'staged-0123456789', dbPassword: 'changed-by-someone-else' });
    const result = await run(s);
    expect(result).toMatchObject({ result: 'failed', detail: expect.stringMatching(/cannot log in/) });
    expect(s.catalog.records).toEqual([{ pending: 'keep', result: 'failed', detail: expect.any(String), trigger: 'manual' }]);
    expect(s.catalog.pending).not.toBeNull();
  });

  it('does not rotate a scheduled run before the credential is due', async () => {
    const fresh = setup({ days: 30 });
    expect((await run(fresh, 'scheduled')).result).toBe('not-due');
    expect(fresh.db.sets).toEqual([]);
    const old = setup({ days: 30, secretSetAt: new Date(Date.now() - 31 * DAY_MS).toISOString() });
    expect((await run(old, 'scheduled')).result).toBe('rotated');
  });

  it('refuses an integration of another connector', async () => {
    const s = setup({ connectorId: 'eu-west' });
    await expect(run(s)).rejects.toEqual(expect.objectContaining({ code: ErrorCode.Conflict }));
    expect(s.db.sets).toEqual([]);
  });

  it('never records or logs a password', async () => {
    const s = setup({ failAt: ['verify'] });
    await run(s);
    const text = JSON.stringify([s.catalog.records, s.logger.warn.mock.calls, s.logger.info.mock.calls]);
    expect(text).not.toContain(OLD);
    for (const p of s.db.sets) expect(text).not.toContain(p);
  });
});
