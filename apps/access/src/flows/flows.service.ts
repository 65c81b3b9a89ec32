import { Injectable } from '@nestjs/common';
import { AppException, checksBlockingGrants, Contracts, diffFields, ErrorCode, FLOW_DRY_RUN_SAMPLE, permissionsOf } from '@latchkey/contracts';
import type { AccessFlow, Actor, FlowDryRun, FlowTarget, Integration, Resource, ValidAccessFlow, ValidationIssue, Warning } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { AuditService } from '../audit/audit.service';
import type { Tx } from '../control-database/transactions.repository';
import { resolveApprovers } from './approvers';
import { requestorMatches, targetCovers } from './flow-matching';
import { PeopleRepository } from './people.repository';
import { selectionsOf } from './requestable';
import { BadPageTokenError, DuplicateFlowNameError, FlowsRepository, toFlow } from './flows.repository';

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No access flow with id ${id}.`);

@Injectable()
export class FlowsService {
  constructor(
    private readonly flows: FlowsRepository,
    private readonly people: PeopleRepository,
    private readonly bus: MessageBus,
    private readonly audit: AuditService,
  ) {}

  /** Saves the flow; the answer's `warnings` say what would keep its requests from being approved or granted. */
  async create(input: ValidAccessFlow, actor: Actor): Promise<AccessFlow> {
    const { flow, warnings } = await this.validate(input);
    const saved = await this.write(async (tx) => {
      const row = toFlow(await this.flows.save(tx, null, flow));
      await this.audit.append(
        { action: 'flow.created', actor, targetType: 'access-flow', targetId: row.id, targetName: row.name, diff: diffFields(null, definitionOf(row)) },
        tx,
      );
      return row;
    }, flow.name);
    return { ...saved, warnings };
  }

  async update(id: string, input: ValidAccessFlow, actor: Actor): Promise<AccessFlow> {
    const { flow, warnings } = await this.validate(input);
    const saved = await this.write(async (tx) => {
      const before = await this.flows.findById(id, tx);
      if (!before) throw notFound(id);
      const row = toFlow(await this.flows.save(tx, id, flow));
      await this.audit.append(
        {
          action: 'flow.updated',
          actor,
          targetType: 'access-flow',
          targetId: id,
          targetName: row.name,
          diff: diffFields(definitionOf(toFlow(before)), definitionOf(row)),
        },
        tx,
      );
      return row;
    }, flow.name);
    return { ...saved, warnings };
  }

  /** Requests already made under the flow keep going (they hold a copy of what they need). */
  async delete(id: string, actor: Actor): Promise<{ id: string }> {
    return this.write(async (tx) => {
      const before = await this.flows.findById(id, tx);
      if (!before || !(await this.flows.delete(tx, id))) throw notFound(id);
      await this.audit.append(
        {
          action: 'flow.deleted',
          actor,
          targetType: 'access-flow',
          targetId: id,
          targetName: before.name,
          diff: diffFields(definitionOf(toFlow(before)), null),
        },
        tx,
      );
      return { id };
    });
  }

  /**
   * Who could request what, and who would approve, for a flow that is not saved: the same checks
   * as a save (a flow that could never match is refused the same way), then the active people its
   * requestors let in and the first resources (by path) its targets offer, each with the approvers
   * resolved now. Whether the flow is active does not matter here: the answer is what it would do.
   */
  async dryRun(input: ValidAccessFlow): Promise<FlowDryRun> {
    const { flow, warnings } = await this.validate(input);
    const matching = (await this.people.everyone()).filter((p) =>
      requestorMatches(flow, { userId: p.id, email: p.email, role: 'user', groups: p.groups, attributes: p.attributes }),
    );
    const selected = await this.bus.request(Contracts.discoveryResourcesSelect, { pageSize: FLOW_DRY_RUN_SAMPLE, targets: selectionsOf([flow]) });
    const integrations = new Map<string, Integration | null>();
    const items: FlowDryRun['resources']['items'] = [];
    for (const resource of selected.items) {
      const permissions = resource.permissions.filter((p) => flow.targets.some((t) => targetCovers(t, resource, p)));
      if (permissions.length === 0) continue;
      if (!integrations.has(resource.integrationId)) integrations.set(resource.integrationId, await this.integration(resource.integrationId));
      const integration = integrations.get(resource.integrationId);
      const approvers =
        flow.approvers === null
          ? []
          : await resolveApprovers(
              {
                approvers: flow.approvers,
                integration: integration ?? { integrationOwners: [], resourceOwnerMappings: [] },
                resources: [resource],
                requesterId: '',
              },
              this.people,
            );
      items.push({ resource, permissions, approvers });
    }
    return {
      warnings,
      approvalRequired: flow.approvers !== null,
      requestors: { total: matching.length, people: matching.slice(0, FLOW_DRY_RUN_SAMPLE).map(({ id, email, name }) => ({ id, email, name })) },
      resources: { items, more: selected.nextPageToken !== undefined },
    };
  }

  async get(id: string): Promise<AccessFlow> {
    const row = await this.flows.findById(id);
    if (!row) throw notFound(id);
    return toFlow(row);
  }

  async list(query: { integrationId?: string; active?: boolean; pageSize: number; pageToken?: string }) {
    try {
      return await this.flows.page(query);
    } catch (err) {
      if (err instanceof BadPageTokenError) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token from a previous page' }]);
      throw err;
    }
  }

  private async write<T>(work: (tx: Tx) => Promise<T>, name?: string): Promise<T> {
    try {
      return await this.flows.transaction(work);
    } catch (err) {
      if (err instanceof DuplicateFlowNameError)
        throw new AppException(ErrorCode.Conflict, `An access flow named "${name}" already exists (names are unique regardless of case).`, {
          issues: [{ field: 'name', rule: 'must be unique' }],
        });
      throw err;
    }
  }

  /**
   * The input's own rules were checked on the way in (the contract's AccessFlowInput); here what only the rest of Latchkey knows: a flow that could never match
   * (unknown integration, a resource type it does not connect, a permission the type does not
   * offer, unknown approvers) is refused with every broken rule named. What could work but will
   * not as things stand (approvers who resolve to nobody, grants the connector's last test says
   * it cannot make) comes back as warnings.
   */
  async validate(flow: ValidAccessFlow): Promise<{ flow: ValidAccessFlow; warnings: Warning[] }> {
    const issues: ValidationIssue[] = [];
    const integrations = new Map<string, Integration | null>();
    for (const id of new Set(flow.targets.map((t) => t.integrationId))) integrations.set(id, await this.integration(id));

    const selected = new Map<string, Resource>();
    for (const [i, target] of flow.targets.entries()) {
      const integration = integrations.get(target.integrationId);
      if (!integration) {
        issues.push({ field: `targets.${i}.integrationId`, rule: 'must name an existing integration' });
        continue;
      }
      if (!integration.connectedResourceTypes.includes(target.resourceType)) {
        issues.push({
          field: `targets.${i}.resourceType`,
          rule: `must be one of the integration's connected resource types (${integration.connectedResourceTypes.join(', ')})`,
        });
      }
      const offered = permissionsOf(target.resourceType);
      target.permissions.forEach((p, j) => {
        if (!offered.includes(p))
          issues.push({ field: `targets.${i}.permissions.${j}`, rule: `${p} is not offered by ${target.resourceType} (it offers ${offered.join(', ')})` });
      });
      const selector = target.resources;
      if (selector?.by === 'id' && selector.mode === 'include') {
        for (const [k, resourceId] of selector.values.entries()) {
          const resource = await this.resource(resourceId);
          if (!resource || resource.integrationId !== target.integrationId || resource.type !== target.resourceType) {
            issues.push({ field: `targets.${i}.resources.values.${k}`, rule: `must be the id of a discovered ${target.resourceType} of this integration` });
          } else selected.set(resourceId, resource);
        }
      }
    }

    for (const [i, group] of (flow.approvers?.groups ?? []).entries()) {
      if (group.type === 'user') {
        for (const email of await this.people.unknownEmails(group.values!))
          issues.push({
            field: `approvers.groups.${i}.values.${group.values!.indexOf(email)}`,
            rule: `must be the email of an existing user (${email} is not)`,
          });
      } else if (group.type === 'group') {
        for (const name of await this.people.unknownGroups(group.values!))
          issues.push({ field: `approvers.groups.${i}.values.${group.values!.indexOf(name)}`, rule: `must name an existing group (${name} does not exist)` });
      } else {
        for (const [id, integration] of integrations) {
          if (integration && integration.integrationOwners.length === 0) {
            issues.push({
              field: `approvers.groups.${i}.type`,
              rule: `OWNER needs integrationOwners on integration "${integration.name}" (${id}): they approve resources that have no owner`,
            });
          }
        }
      }
    }
    if (issues.length) throw AppException.validation(issues, 'The access flow could never be used.');
    return { flow, warnings: [...(await this.approverWarnings(flow, integrations)), ...grantWarnings(flow, integrations, selected)] };
  }

  /** Approver groups that name nobody now: an empty group, or OWNER falling back to integration owners who name nobody. */
  private async approverWarnings(flow: ValidAccessFlow, integrations: Map<string, Integration | null>): Promise<Warning[]> {
    const warnings: Warning[] = [];
    for (const [i, group] of (flow.approvers?.groups ?? []).entries()) {
      if (group.type === 'group') {
        (await this.people.countEach('group', group.values!)).forEach((n, j) => {
          if (n === 0)
            warnings.push({
              field: `approvers.groups.${i}.values.${j}`,
              message: `Group "${group.values![j]}" has no members: nobody can approve for it, so its requests wait for an admin until they expire.`,
            });
        });
      } else if (group.type === 'OWNER') {
        for (const integration of integrations.values()) {
          if (!integration || integration.integrationOwners.length === 0) continue;
          const counts = await Promise.all(integration.integrationOwners.map((o) => this.people.countEach(o.attribute, o.values)));
          if (counts.flat().some((n) => n > 0)) continue;
          const owners = integration.integrationOwners.map((o) => `${o.attribute} ${o.values.join(', ')}`).join('; ');
          warnings.push({
            field: `approvers.groups.${i}`,
            message: `The integration owners of "${integration.name}" (${owners}) name nobody: a resource whose owner tag names no one falls back to them, and its requests wait for an admin until they expire.`,
          });
        }
      }
    }
    return warnings;
  }

  private async integration(id: string): Promise<Integration | null> {
    try {
      return await this.bus.request(Contracts.catalogIntegrationsGet, { id });
    } catch (err) {
      if (err instanceof AppException && err.code === ErrorCode.NotFound) return null;
      throw err;
    }
  }

  private async resource(id: string) {
    try {
      return await this.bus.request(Contracts.discoveryResourcesGet, { id });
    } catch (err) {
      if (err instanceof AppException && err.code === ErrorCode.NotFound) return null;
      throw err;
    }
  }
}

function definitionOf(flow: AccessFlow): Record<string, unknown> {
  const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = flow;
  return rest;
}

/**
 * Targets whose grants the connector's last test (the integration's lastTest) says it cannot
 * make: creating roles, granting on the databases the target may cover, ADMIN OPTION for roles.
 * The warning carries the fix SQL from the test.
 */
function grantWarnings(flow: ValidAccessFlow, integrations: Map<string, Integration | null>, selected: Map<string, Resource>): Warning[] {
  const warnings: Warning[] = [];
  for (const [i, target] of flow.targets.entries()) {
    const integration = integrations.get(target.integrationId);
    if (!integration?.lastTest?.connected) continue;
    const roles = target.resourceType === 'postgresql-role';
    const databases = roles ? [String(integration.config.dbname ?? 'postgres')] : databasesOf(target, selected);
    for (const check of checksBlockingGrants(integration.lastTest, { databases, roles })) {
      warnings.push({
        field: `targets.${i}`,
        message: `The connector's last test of "${integration.name}" (${integration.lastTest.testedAt}) says it cannot grant ${target.permissions.join(', ')} here: ${check.detail}${check.fix ? ` Requests will fail until an administrator runs on the target:\n${check.fix}` : ''}`,
      });
    }
  }
  return warnings;
}

/** The databases a target's resources may live in; 'any' when the selector does not pin them. */
function databasesOf(target: FlowTarget, selected: Map<string, Resource>): string[] | 'any' {
  const selector = target.resources;
  if (!selector || selector.mode === 'exclude' || selector.by === 'tag') return 'any';
  if (selector.by === 'id')
    return selector.values
      .map((id) => selected.get(id))
      .filter((r): r is Resource => !!r)
      .map((r) => r.parts.database ?? r.parts.name);
  const firsts = selector.values.map((glob) => glob.split('/')[0]);
  return firsts.some((db) => /[*?]/.test(db)) ? 'any' : firsts;
}
