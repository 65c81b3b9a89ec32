import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccessFlowInput, Contracts, diffFields, ErrorCode, issuesFromZod, permissionsOf } from '@latchkey/contracts';
import type { AccessFlow, Actor, Integration, ValidAccessFlow, ValidationIssue } from '@latchkey/contracts';
import { AppException, MessageBus } from '@latchkey/messaging';
import { AuditService } from '../audit/audit.service';
import { PeopleDirectorySql } from './people.directory';
import { BadPageTokenError, DuplicateFlowNameError, FlowsRepository, toFlow } from './flows.repository';

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No access flow with id ${id}.`);

@Injectable()
export class FlowsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly flows: FlowsRepository,
    private readonly people: PeopleDirectorySql,
    private readonly bus: MessageBus,
    private readonly audit: AuditService,
  ) {}

  async create(body: unknown, actor: Actor): Promise<AccessFlow> {
    const flow = await this.validate(body);
    return this.write(async (m) => {
      const saved = toFlow(await this.flows.save(m, null, flow));
      await this.audit.append({ action: 'flow.created', actor, targetType: 'access-flow', targetId: saved.id, targetName: saved.name, diff: diffFields(null, definitionOf(saved)) }, m);
      return saved;
    }, flow.name);
  }

  async update(id: string, body: unknown, actor: Actor): Promise<AccessFlow> {
    const flow = await this.validate(body);
    return this.write(async (m) => {
      const before = await this.flows.findById(id, m);
      if (!before) throw notFound(id);
      const saved = toFlow(await this.flows.save(m, id, flow));
      await this.audit.append({ action: 'flow.updated', actor, targetType: 'access-flow', targetId: id, targetName: saved.name, diff: diffFields(definitionOf(toFlow(before)), definitionOf(saved)) }, m);
      return saved;
    }, flow.name);
  }

  /** Requests already made under the flow keep going (they hold a copy of what they need). */
  async delete(id: string, actor: Actor): Promise<{ id: string }> {
    return this.write(async (m) => {
      const before = await this.flows.findById(id, m);
      if (!before || !(await this.flows.delete(m, id))) throw notFound(id);
      await this.audit.append({ action: 'flow.deleted', actor, targetType: 'access-flow', targetId: id, targetName: before.name, diff: diffFields(definitionOf(toFlow(before)), null) }, m);
      return { id };
    });
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

  private async write<T>(work: (m: import('typeorm').EntityManager) => Promise<T>, name?: string): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (err) {
      if (err instanceof DuplicateFlowNameError) throw new AppException(ErrorCode.Conflict, `An access flow named "${name}" already exists (names are unique regardless of case).`, { issues: [{ field: 'name', rule: 'must be unique' }] });
      throw err;
    }
  }

  /**
   * The input's own rules, then what only the rest of Latchkey knows: a flow that could never match
   * (unknown integration, a resource type it does not connect, a permission the type does not
   * offer, unknown approvers) is refused with every broken rule named.
   */
  async validate(body: unknown): Promise<ValidAccessFlow> {
    const parsed = AccessFlowInput.safeParse(body);
    if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error));
    const flow = parsed.data;
    const issues: ValidationIssue[] = [];
    const integrations = new Map<string, Integration | null>();
    for (const id of new Set(flow.targets.map((t) => t.integrationId))) integrations.set(id, await this.integration(id));

    for (const [i, target] of flow.targets.entries()) {
      const integration = integrations.get(target.integrationId);
      if (!integration) {
        issues.push({ field: `targets.${i}.integrationId`, rule: 'must name an existing integration' });
        continue;
      }
      if (!integration.connectedResourceTypes.includes(target.resourceType)) {
        issues.push({ field: `targets.${i}.resourceType`, rule: `must be one of the integration's connected resource types (${integration.connectedResourceTypes.join(', ')})` });
      }
      const offered = permissionsOf(target.resourceType);
      target.permissions.forEach((p, j) => {
        if (!offered.includes(p)) issues.push({ field: `targets.${i}.permissions.${j}`, rule: `${p} is not offered by ${target.resourceType} (it offers ${offered.join(', ')})` });
      });
      const selector = target.resources;
      if (selector?.by === 'id' && selector.mode === 'include') {
        for (const [k, resourceId] of selector.values.entries()) {
          const resource = await this.resource(resourceId);
          if (!resource || resource.integrationId !== target.integrationId || resource.type !== target.resourceType) {
            issues.push({ field: `targets.${i}.resources.values.${k}`, rule: `must be the id of a discovered ${target.resourceType} of this integration` });
          }
        }
      }
    }

    for (const [i, group] of (flow.approvers?.groups ?? []).entries()) {
      if (group.type === 'user') {
        for (const email of await this.people.unknownEmails(group.values!)) issues.push({ field: `approvers.groups.${i}.values.${group.values!.indexOf(email)}`, rule: `must be the email of an existing user (${email} is not)` });
      } else if (group.type === 'group') {
        for (const name of await this.people.unknownGroups(group.values!)) issues.push({ field: `approvers.groups.${i}.values.${group.values!.indexOf(name)}`, rule: `must name an existing group (${name} does not exist)` });
      } else {
        for (const [id, integration] of integrations) {
          if (integration && integration.integrationOwners.length === 0) {
            issues.push({ field: `approvers.groups.${i}.type`, rule: `OWNER needs integrationOwners on integration "${integration.name}" (${id}): they approve resources that have no owner` });
          }
        }
      }
    }
    if (issues.length) throw AppException.validation(issues, 'The access flow could never be used.');
    return flow;
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
