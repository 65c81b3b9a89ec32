import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { Contracts, DurationMinutes, Expiry, GrantItem, GrantStatus, Page, PersonIdentity, text } from '@latchkey/contracts';
import { ConnectorClient } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { NoStore } from './no-store';
import { actorOf, CurrentCaller } from '../auth/caller';
import type { AuthenticatedCaller } from '../auth/caller';
import { IdParam, parseInput } from './validate';

export const GrantBody = z
  .object({
    idempotencyKey: text({ min: 1, max: 200 }).optional(),
    identity: PersonIdentity,
    items: z.array(GrantItem).min(1, 'must list at least one item').max(100, 'must list at most 100 items'),
    expiresAt: Expiry.optional(),
    durationMinutes: DurationMinutes.optional(),
    connectionLimit: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .refine((b) => (b.expiresAt === undefined) !== (b.durationMinutes === undefined), {
    message: 'give exactly one of expiresAt or durationMinutes',
    path: ['expiresAt'],
  });
export const ExtendBody = z.object({ expiresAt: Expiry }).strict();
export const GrantListQuery = z.object({ status: GrantStatus.optional(), ...Page }).strict();

/**
 * Admin routes onto provisioning (direct grants, beside access requests): each call goes to the
 * provisioning worker of the integration's own connector.
 */
@Controller('api/v1/integrations/:id')
export class GrantsHttpController {
  constructor(private readonly connectors: ConnectorClient) {}

  /** The integration's connector, read before the rest of the input is checked: an unknown integration is a 404 first. */
  private async connectorOf(id: string): Promise<{ integrationId: string; route: { connectorId: string } }> {
    const integrationId = parseInput(IdParam, id, ['id']);
    const { connectorId } = await this.connectors.integration(integrationId);
    return { integrationId, route: { connectorId } };
  }

  @Post('grants')
  @Access('admin')
  @NoStore()
  async create(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const input = parseInput(GrantBody, body);
    const { integrationId, route } = await this.connectorOf(id);
    const expiresAt = input.expiresAt ?? new Date(Date.now() + input.durationMinutes! * 60_000).toISOString();
    return this.connectors.request(Contracts.provisioningGrantsCreate, route, {
      idempotencyKey: input.idempotencyKey ?? randomUUID(),
      integrationId,
      identity: input.identity,
      items: input.items,
      expiresAt,
      connectionLimit: input.connectionLimit,
      actor: actorOf(caller),
    });
  }

  @Get('grants')
  @Access('admin')
  async list(@Param('id') id: string, @Query() query: unknown) {
    const q = parseInput(GrantListQuery, query);
    const { integrationId, route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningGrantsList, route, { integrationId, ...q });
  }

  @Get('grants/:grantId')
  @Access('admin')
  async get(@Param('id') id: string, @Param('grantId') grantId: string) {
    const { route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningGrantsGet, route, { id: parseInput(IdParam, grantId, ['grantId']) });
  }

  @Post('grants/:grantId/revoke')
  @HttpCode(200)
  @Access('admin')
  async revoke(@Param('id') id: string, @Param('grantId') grantId: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const { route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningGrantsRevoke, route, {
      id: parseInput(IdParam, grantId, ['grantId']),
      revokedBy: actorOf(caller),
      actor: actorOf(caller),
    });
  }

  @Post('grants/:grantId/extend')
  @HttpCode(200)
  @Access('admin')
  async extend(@Param('id') id: string, @Param('grantId') grantId: string, @Body() body: unknown, @CurrentCaller() caller: AuthenticatedCaller) {
    const { expiresAt } = parseInput(ExtendBody, body);
    const { route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningGrantsExtend, route, {
      id: parseInput(IdParam, grantId, ['grantId']),
      expiresAt,
      actor: actorOf(caller),
    });
  }

  @Post('grants/:grantId/reset-credentials')
  @HttpCode(200)
  @Access('admin')
  @NoStore()
  async reset(@Param('id') id: string, @Param('grantId') grantId: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const { route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningGrantsResetCredentials, route, {
      id: parseInput(IdParam, grantId, ['grantId']),
      actor: actorOf(caller),
    });
  }

  @Get('drift')
  @Access('admin')
  async drift(@Param('id') id: string) {
    const { integrationId, route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningDriftReport, route, { integrationId }, { timeoutMs: 120_000 });
  }

  @Post('drift/repair')
  @HttpCode(200)
  @Access('admin')
  async repairDrift(@Param('id') id: string, @CurrentCaller() caller: AuthenticatedCaller) {
    const { integrationId, route } = await this.connectorOf(id);
    return this.connectors.request(Contracts.provisioningDriftRepair, route, { integrationId, actor: actorOf(caller) }, { timeoutMs: 120_000 });
  }
}
