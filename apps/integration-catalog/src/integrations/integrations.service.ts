import { Inject, Injectable } from '@nestjs/common';
import {
  Actor,
  AppException,
  Contracts,
  ErrorCode,
  Integration,
  IntegrationInput,
  IntegrationUpdateInput,
  PreflightReport,
  ValidationIssue,
  Warning,
} from '@latchkey/contracts';
import type { IntegrationOwner } from '@latchkey/contracts';
import { INTEGRATION_TYPES, validateIntegrationInput } from '@latchkey/config';
import type { ValidIntegration, ValidIntegrationUpdate } from '@latchkey/config';
import { LOGGER, MessageBus } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { MasterKey, toSecretRef } from '@latchkey/secrets';
import { decodePageToken } from '@latchkey/persistence';
import { ConnectorsService } from '../connectors/connectors.service';
import { IntegrationEntity } from './integration.entity';
import { auditDiff, targetOf, toView } from './integration-view';
import { DuplicateNameError, IntegrationsRepository, type IntegrationsTransaction } from './integrations.repository';

/** Checks whose failure leaves Latchkey unable to grant or revoke anything: the integration is in ERROR. */
const ESSENTIAL_CHECKS = new Set(['connect', 'create_roles', 'terminate_backends']);
const TEST_TIMEOUT_MS = 60_000;
const DISCOVERY_REASON = 'discovery: ';
export const ROTATION_STORE_RULE =
  'can only be set for a builtin secret: Latchkey cannot write environment variables or files on the connector host; store the secret as builtin, or rotate it yourself';

@Injectable()
export class IntegrationsService {
  constructor(
    private readonly integrations: IntegrationsRepository,
    private readonly connectors: ConnectorsService,
    private readonly bus: MessageBus,
    private readonly masterKey: MasterKey,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /** Creates the integration, then tests it through its connector; the answer carries the status. */
  async create(body: IntegrationInput, actor: Actor): Promise<Integration> {
    const input = this.validate(body, 'create');
    await this.refuseUnusable(input.name, input.connectorId, input.type, input.credentialRotationDays ?? null, input.secret.store);
    const entity = Object.assign(new IntegrationEntity(), this.fields(input), {
      secret: toSecretRef(input.secret, this.masterKey),
      secretSetAt: new Date(),
      managedBy: input.managedBy ?? null,
      status: 'INITIALIZING',
      statusReason: null,
      lastTest: null,
    } satisfies Partial<IntegrationEntity>);
    const saved = await this.integrations.audited(async (tx) => {
      const row = await this.save(entity, input.name, tx);
      await tx.audit({
        action: 'integration.created',
        actor,
        targetType: 'integration',
        targetId: row.id,
        targetName: row.name,
        diff: auditDiff(undefined, row),
      });
      return row;
    });
    this.logger.info({ integrationId: saved.id, name: saved.name, connectorId: saved.connectorId }, 'integration created');
    const tested = (await this.runTest(saved)).integration;
    await this.announce(saved, 'created');
    return { ...tested, warnings: await this.ownerWarnings(input.integrationOwners ?? []) };
  }

  async update(id: string, body: IntegrationUpdateInput, actor: Actor): Promise<Integration> {
    const input = this.validate(body, 'update');
    const current = await this.get(id);
    await this.refuseUnusable(input.name, input.connectorId, input.type, input.credentialRotationDays ?? null, input.secret?.store ?? current.secret.store, id);
    if (input.type !== current.type) {
      throw AppException.validation([{ field: 'type', rule: `cannot change from ${current.type}; create a new integration instead` }]);
    }
    const saved = await this.integrations.audited(async (tx) => {
      // Locked: a rotation settling at the same moment must not be overwritten by a stale read.
      const before = await tx.lockById(id);
      if (!before) throw notFound(id);
      const entity = Object.assign(new IntegrationEntity(), before, this.fields(input), { status: 'INITIALIZING', statusReason: null });
      if (input.secret) {
        // An admin's new secret wins over a rotation in flight, whose staged password belonged to the old one.
        Object.assign(entity, {
          secret: toSecretRef(input.secret, this.masterKey),
          secretSetAt: new Date(),
          pendingSecret: null,
          pendingRunId: null,
          pendingStagedAt: null,
        });
      }
      // The rotation worker plans the schedule again when it hears of the change.
      if (input.secret || entity.credentialRotationDays !== before.credentialRotationDays || entity.connectorId !== before.connectorId) entity.nextDueAt = null;
      const row = await this.save(entity, input.name, tx);
      await tx.audit({
        action: 'integration.updated',
        actor,
        targetType: 'integration',
        targetId: id,
        targetName: row.name,
        diff: auditDiff(before, row, Boolean(input.secret)),
      });
      return row;
    });
    this.logger.info({ integrationId: id }, 'integration updated');
    const tested = (await this.runTest(saved)).integration;
    await this.announce(saved, 'updated');
    return { ...tested, warnings: await this.ownerWarnings(input.integrationOwners ?? []) };
  }

  async delete(id: string, actor: Actor): Promise<{ id: string }> {
    const entity = await this.integrations.audited(async (tx) => {
      const row = await tx.lockById(id);
      if (!row || !(await tx.delete(id))) throw notFound(id);
      await tx.audit({ action: 'integration.deleted', actor, targetType: 'integration', targetId: id, targetName: row.name, diff: auditDiff(row, undefined) });
      return row;
    });
    this.logger.info({ integrationId: id }, 'integration deleted');
    await this.announce(entity, 'deleted');
    return { id };
  }

  /** What a connector needs to reach the integration's database; the secret stays encrypted. */
  async target(id: string) {
    const e = await this.get(id);
    return { connectorId: e.connectorId, status: e.status, connectedResourceTypes: e.connectedResourceTypes, target: targetOf(e) };
  }

  /**
   * Integration owners who name nobody now (a missing or empty group, an unknown email, an
   * attribute value no one holds): approvals that fall to them would never come. Asked of the
   * access service, which keeps identities; if it does not answer, the warning says so.
   */
  private async ownerWarnings(owners: IntegrationOwner[]): Promise<Warning[]> {
    if (owners.length === 0) return [];
    let counts: number[][];
    try {
      ({ counts } = await this.bus.request(Contracts.accessPeopleCount, { references: owners }));
    } catch (err) {
      this.logger.warn({ err }, 'could not check integration owners');
      return [{ field: 'integrationOwners', message: 'Could not check whom the integration owners name: the access service did not answer.' }];
    }
    const warnings: Warning[] = owners.flatMap((owner, i) =>
      owner.values.flatMap((value, j) =>
        counts[i]?.[j] === 0
          ? [
              {
                field: `integrationOwners.${i}.values.${j}`,
                message: `${owner.attribute} "${value}" names nobody (${nobodyBecause(owner.attribute)}): approvals that fall to the integration owners would wait for an admin.`,
              },
            ]
          : [],
      ),
    );
    if (warnings.length === owners.reduce((n, o) => n + o.values.length, 0)) {
      warnings.push({
        field: 'integrationOwners',
        message: 'No integration owner names anybody: requests that need an owner approval would wait for an admin until they expire.',
      });
    }
    return warnings;
  }

  /** Discovery drives REFRESHING, and ERROR when the instance cannot be read; success recovers it. */
  async onRefresh(integrationId: string, outcome: { phase: 'started' } | { phase: 'succeeded' } | { phase: 'failed'; reason: string }) {
    const entity = await this.integrations.findById(integrationId);
    if (!entity) return;
    const fromDiscovery = entity.status === 'REFRESHING' || (entity.status === 'ERROR' && entity.statusReason?.startsWith(DISCOVERY_REASON));
    if (outcome.phase === 'started' && entity.status === 'ACTIVE') {
      await this.integrations.updateStatus(integrationId, { status: 'REFRESHING', statusReason: null });
    } else if (outcome.phase === 'succeeded' && fromDiscovery) {
      await this.integrations.updateStatus(integrationId, { status: 'ACTIVE', statusReason: null });
    } else if (outcome.phase === 'failed' && (entity.status !== 'ERROR' || fromDiscovery)) {
      await this.integrations.updateStatus(integrationId, { status: 'ERROR', statusReason: `${DISCOVERY_REASON}${outcome.reason}`.slice(0, 2000) });
    }
  }

  private async announce(e: IntegrationEntity, change: 'created' | 'updated' | 'deleted') {
    await this.bus
      .publish(Contracts.catalogIntegrationChanged, {
        integrationId: e.id,
        connectorId: e.connectorId,
        change,
        connectedResourceTypes: e.connectedResourceTypes,
      })
      .catch((err: unknown) => this.logger.warn({ err, integrationId: e.id }, 'integration change not announced'));
  }

  async find(id: string): Promise<Integration> {
    return toView(await this.get(id));
  }

  async list(pageSize: number, pageToken?: string): Promise<{ items: Integration[]; nextPageToken?: string }> {
    if (pageToken && !decodePageToken(pageToken)) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token from a previous page' }]);
    const page = await this.integrations.page(pageSize, pageToken);
    return { ...page, items: page.items.map(toView) };
  }

  /** A test an admin asked for: its outcome (the status it sets) is audited as `integration.tested`. */
  async test(id: string, actor: Actor): Promise<{ integration: Integration; report: PreflightReport }> {
    return this.runTest(await this.get(id), actor);
  }

  /**
   * Asks the integration's connector to connect and report what its user can do, and records the
   * outcome as the integration's status. A connector that does not answer is an ERROR, not a throw.
   */
  private async runTest(entity: IntegrationEntity, actor?: Actor): Promise<{ integration: Integration; report: PreflightReport }> {
    let report: PreflightReport;
    try {
      report = await this.bus.request(
        Contracts.connectorIntegrationTest,
        { target: targetOf(entity) },
        { connectorId: entity.connectorId, timeoutMs: TEST_TIMEOUT_MS },
      );
    } catch (err) {
      const reason = err instanceof AppException ? err.message : 'the connector failed to run the test';
      report = {
        ok: false,
        testedAt: new Date().toISOString(),
        connectorId: entity.connectorId,
        connected: false,
        tls: false,
        checks: [{ id: 'connect', ok: false, detail: reason }],
      };
    }
    const failed = report.checks.filter((c) => !c.ok);
    const essential = failed.filter((c) => ESSENTIAL_CHECKS.has(c.id));
    entity.status = report.connected && essential.length === 0 ? 'ACTIVE' : 'ERROR';
    entity.statusReason =
      failed.length === 0
        ? null
        : failed
            .map((c) => `${c.id}${c.target ? ` (${c.target})` : ''}: ${c.detail}`)
            .join('; ')
            .slice(0, 2000);
    entity.lastTest = report;
    const fields = { status: entity.status, statusReason: entity.statusReason, lastTest: report };
    if (actor) {
      await this.integrations.audited(async (tx) => {
        await tx.updateStatus(entity.id, fields);
        await tx.audit({
          action: 'integration.tested',
          actor,
          targetType: 'integration',
          targetId: entity.id,
          targetName: entity.name,
          details: { status: entity.status, failedChecks: failed.map((c) => c.id) },
        });
      });
    } else {
      await this.integrations.updateStatus(entity.id, fields);
    }
    this.logger.info({ integrationId: entity.id, status: entity.status, failed: failed.map((c) => c.id) }, 'integration tested');
    return { integration: toView(entity), report };
  }

  private validate(body: IntegrationInput, mode: 'create'): ValidIntegration;
  private validate(body: IntegrationUpdateInput, mode: 'update'): ValidIntegrationUpdate;
  private validate(body: unknown, mode: 'create' | 'update'): ValidIntegrationUpdate {
    const result = mode === 'create' ? validateIntegrationInput(body, 'create') : validateIntegrationInput(body, 'update');
    if (!result.ok) throw AppException.validation(result.issues);
    return result.value;
  }

  private async refuseUnusable(name: string, connectorId: string, type: string, rotationDays: number | null, store: string, selfId?: string) {
    const issues: ValidationIssue[] = [];
    if (rotationDays !== null && store !== 'builtin') issues.push({ field: 'credentialRotationDays', rule: ROTATION_STORE_RULE });
    const same = await this.integrations.findByNameKey(name.toLowerCase());
    if (same && same.id !== selfId) throw duplicate(name);
    const refusal = await this.connectors.refusal(connectorId, INTEGRATION_TYPES[type].description.minimumConnectorVersion);
    if (refusal) issues.push(refusal);
    if (issues.length) throw AppException.validation(issues);
  }

  private async save(entity: IntegrationEntity, name: string, tx: IntegrationsTransaction): Promise<IntegrationEntity> {
    try {
      return await tx.save(entity);
    } catch (err) {
      if (err instanceof DuplicateNameError) throw duplicate(name);
      throw err;
    }
  }

  private async get(id: string): Promise<IntegrationEntity> {
    const entity = await this.integrations.findById(id);
    if (!entity) throw notFound(id);
    return entity;
  }

  private fields(input: ValidIntegrationUpdate): Partial<IntegrationEntity> {
    return {
      name: input.name,
      nameKey: input.name.toLowerCase(),
      type: input.type,
      connectorId: input.connectorId,
      connectedResourceTypes: input.connectedResourceTypes,
      config: input.config,
      credentialRotationDays: input.credentialRotationDays ?? null,
      customAccessDetails: input.customAccessDetails ?? null,
      integrationOwners: input.integrationOwners ?? [],
      resourceOwnerMappings: input.resourceOwnerMappings ?? [],
      // Left out on update: the stored marker stays (an edit in the console does not unmanage it).
      ...(input.managedBy !== undefined ? { managedBy: input.managedBy } : {}),
    };
  }
}

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No integration with id ${id}.`);
const duplicate = (name: string) =>
  new AppException(ErrorCode.Conflict, `An integration named "${name}" already exists (names are unique regardless of case).`, {
    issues: [{ field: 'name', rule: 'must be unique regardless of case' }],
  });

const nobodyBecause = (attribute: string) =>
  attribute === 'group'
    ? 'no such group, or it has no members'
    : attribute === 'user'
      ? 'no user has this email'
      : `no user has this ${attribute} attribute value`;
