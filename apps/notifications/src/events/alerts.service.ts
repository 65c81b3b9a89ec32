import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import type { NotificationEventType } from '@latchkey/contracts';
import { ConnectorClient, LOGGER, MessageBus, Periodic } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { nextAttempt, NotificationsQueue } from '../delivery/notifications.queue';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { NotificationsRepository } from '../store/notifications.repository';
import type { EventRow } from '../store/notifications.repository';
import { IngestService } from './ingest.service';

interface Alert {
  /** Derived from the state that raised it: the same state never alerts twice. */
  id: string;
  type: NotificationEventType;
  integrationId: string | null;
  data: Record<string, unknown>;
}

const PAGE = 500;

/**
 * Operational alerts for admins (their webhooks, and email to ALERTS_EMAIL or every admin), derived from the state the other services keep (never
 * from an at-most-once NATS event): an integration in ERROR, a connector DISCONNECTED, a
 * revocation STUCK (from each connected connector's provisioning), and the audit chain found
 * broken (verified every AUDIT_VERIFY_INTERVAL_MINUTES). Each alert's id names the state (the
 * integration and its last change, the connector and its last heartbeat, the grant, the first
 * broken seq), so checking again sends nothing twice, and a new occurrence alerts again.
 */
@Injectable()
export class AlertsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: Periodic;
  private lastVerify = 0;

  constructor(
    private readonly repository: NotificationsRepository,
    private readonly ingest: IngestService,
    private readonly bus: MessageBus,
    private readonly connectors: ConnectorClient,
    private readonly queue: NotificationsQueue,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    this.periodic = new Periodic('alert check', () => this.check(), settings.alertsIntervalMs, this.logger);
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  onApplicationShutdown() {
    return this.periodic.stop();
  }

  async check(): Promise<void> {
    const alerts: Alert[] = [];
    const base = this.settings.publicUrl.replace(/\/+$/, '');
    let pageToken: string | undefined;
    do {
      const page = await this.bus.request(Contracts.catalogIntegrationsList, { pageSize: PAGE, ...(pageToken ? { pageToken } : {}) });
      for (const i of page.items) {
        if (i.status !== 'ERROR') continue;
        alerts.push({
          id: `integration_error_${i.id}_${Date.parse(i.updatedAt)}`,
          type: 'integration.error',
          integrationId: i.id,
          data: { integrationId: i.id, name: i.name, reason: i.statusReason, links: { integration: `${base}/integrations/${i.id}` } },
        });
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    const connectors = (await this.bus.request(Contracts.catalogConnectorsList, {})).items;
    for (const c of connectors) {
      if (c.status === 'DISCONNECTED') {
        alerts.push({
          id: `connector_disconnected_${c.id}_${Date.parse(c.lastSeenAt)}`,
          type: 'connector.disconnected',
          integrationId: null,
          data: { connectorId: c.id, version: c.version, lastSeenAt: c.lastSeenAt },
        });
        continue;
      }
      const stuck = await this.connectors
        .request(Contracts.provisioningGrantsList, { connectorId: c.id }, { status: 'STUCK', pageSize: PAGE })
        .catch((err: unknown) => {
          // One unreachable connector must not hold back every other alert.
          this.logger.warn({ connectorId: c.id, reason: (err as Error).message }, 'stuck revocations of a connector not checked');
          return { items: [] };
        });
      for (const g of stuck.items) {
        alerts.push({
          id: `revocation_stuck_${g.id}`,
          type: 'grant.revocation_stuck',
          integrationId: g.integrationId,
          data: {
            grantId: g.id,
            integrationId: g.integrationId,
            connectorId: g.connectorId,
            requester: g.identity.email,
            roleName: g.roleName,
            attempts: g.attempts,
            lastError: g.lastError,
            expiresAt: g.expiresAt,
          },
        });
      }
    }
    if (Date.now() - this.lastVerify >= this.settings.auditVerifyIntervalMs) {
      const report = await this.bus.request(Contracts.accessAuditVerify, {});
      this.lastVerify = Date.now();
      if (!report.ok && report.firstBroken) {
        alerts.push({
          id: `audit_chain_broken_${report.firstBroken.seq}`,
          type: 'audit.chain_broken',
          integrationId: null,
          data: { checked: report.checked, firstBroken: report.firstBroken, links: { verify: `${base}/api/v1/audit/verify` } },
        });
      }
    }
    if (alerts.length) await this.record(alerts);
  }

  /** Who gets admin alerts by email: ALERTS_EMAIL, else every admin user. */
  private async alertEmails(): Promise<string[]> {
    if (this.settings.alertsEmail) return this.settings.alertsEmail;
    const emails: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.bus.request(Contracts.accessUsersList, { pageSize: PAGE, ...(pageToken ? { pageToken } : {}) });
      for (const u of page.items) if (u.role === 'admin' && u.email) emails.push(u.email);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return emails;
  }

  private async record(alerts: Alert[]): Promise<void> {
    const now = new Date().toISOString();
    const alertEmails = await this.alertEmails();
    const created = await this.repository.transaction(async (m) => {
      const endpoints = await this.repository.activeEndpoints(m);
      const out: Array<{ id: string; attempts: number }> = [];
      for (const a of alerts) {
        const event: Omit<EventRow, 'occurred_at'> & { occurred_at: string } = {
          id: a.id,
          type: a.type,
          occurred_at: now,
          request_id: null,
          integration_id: a.integrationId,
          flow_id: null,
          payload: { type: a.type, timestamp: now, data: a.data },
        };
        if (await this.repository.insertEvent(m, event)) out.push(...(await this.ingest.fanOut(m, event, endpoints, alertEmails)));
      }
      return out;
    });
    await this.queue.deliverAll(created.map(nextAttempt));
  }
}
