import { Injectable } from '@nestjs/common';
import { Contracts, effectiveEmailChoices } from '@latchkey/contracts';
import type { Actor, EmailChoices, NotificationDefaults, NotificationPreferences, NotificationPreferencesInput } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { NotificationsRepository } from '../store/notifications.repository';

const ORG = 'org';
const personal = (userId: string) => `user:${userId}`;

/**
 * Which events people get by email: each person's choices over the organisation's defaults (set by
 * an admin), everything on when neither says. Webhooks and Slack channels are not a person's to
 * turn off: they follow their endpoint's subscriptions. Every change is audited.
 */
@Injectable()
export class PreferencesService {
  constructor(
    private readonly repository: NotificationsRepository,
    private readonly bus: MessageBus,
  ) {}

  async get(userId: string): Promise<NotificationPreferences> {
    const [mine, org] = await Promise.all([this.repository.readChoices(personal(userId)), this.repository.readChoices(ORG)]);
    const overrides = (mine?.email_choices ?? {}) as EmailChoices;
    const defaults = (org?.email_choices ?? {}) as EmailChoices;
    return { email: effectiveEmailChoices(overrides, defaults), overrides, defaults, updatedAt: mine ? mine.updated_at.toISOString() : null };
  }

  /** Replaces the person's choices (a type left out follows the organisation's default again). */
  async set(userId: string, email: string, input: NotificationPreferencesInput, actor: Actor): Promise<NotificationPreferences> {
    const row = await this.repository.writeChoices(personal(userId), email, input.email);
    await this.bus.request(Contracts.accessAuditAppend, { action: 'notification-preferences.updated', actor, targetType: 'user', targetId: userId, targetName: email, details: { email: input.email }, sourceId: `notification-preferences.updated:${userId}:${row.updated_at.getTime()}` });
    return this.get(userId);
  }

  async defaults(): Promise<NotificationDefaults> {
    const org = await this.repository.readChoices(ORG);
    return { email: (org?.email_choices ?? {}) as EmailChoices, updatedAt: org ? org.updated_at.toISOString() : null };
  }

  async setDefaults(input: NotificationPreferencesInput, actor: Actor): Promise<NotificationDefaults> {
    const row = await this.repository.writeChoices(ORG, null, input.email);
    await this.bus.request(Contracts.accessAuditAppend, { action: 'notification-defaults.updated', actor, targetType: 'notification-defaults', targetId: ORG, targetName: 'organisation defaults', details: { email: input.email }, sourceId: `notification-defaults.updated:${row.updated_at.getTime()}` });
    return { email: row.email_choices as EmailChoices, updatedAt: row.updated_at.toISOString() };
  }
}
