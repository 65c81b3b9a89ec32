import { Inject, Injectable } from '@nestjs/common';
import {
  AppException,
  Contracts,
  DEFAULT_CHANNELS,
  effectiveEventChoices,
  ESSENTIAL_EVENT_TYPES,
  isEssentialEvent,
  webhookDisplayUrl,
} from '@latchkey/contracts';
import type {
  Actor,
  NotificationDefaults,
  NotificationDefaultsInput,
  NotificationPreferences,
  NotificationPreferencesInput,
  PersonalChannel,
  PersonalDelivery,
} from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { decodePageToken, encodePageToken } from '@latchkey/persistence';
import { SETTINGS } from '../settings';
import type { NotificationSettings } from '../settings';
import { NotificationsRepository } from '../store/notifications.repository';
import type { AttemptRow, DeliveryRow, PreferencesRow } from '../store/notifications.repository';
import { SecretBox } from '../store/secret-box';
import { urlProblem } from '../channels/url-policy';
import { iso, toAttempt } from '../webhooks/webhooks.service';

const ORG = 'org';
const personal = (userId: string) => `user:${userId}`;

/** Stored choices without an essential one turned off (rows written before a type became essential). */
const withoutEssentialOff = (choices: Record<string, boolean> | undefined): Record<string, boolean> =>
  Object.fromEntries(Object.entries(choices ?? {}).filter(([type, on]) => on || !isEssentialEvent(type)));

function toPersonalDelivery(d: DeliveryRow, attempts: AttemptRow[]): PersonalDelivery {
  return {
    id: d.id,
    channel: d.channel === 'slack' ? 'slack' : 'email',
    eventId: d.event_id,
    eventType: d.event_type ?? '',
    requestId: d.request_id ?? null,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'PENDING' ? iso(d.next_attempt_at) : null,
    deliveredAt: iso(d.delivered_at),
    deadLetteredAt: iso(d.dead_lettered_at),
    lastError: d.last_error,
    createdAt: iso(d.created_at)!,
    attemptLog: attempts.map(toAttempt),
  };
}

const channelsOf = (row: Pick<PreferencesRow, 'channels'> | null): PersonalChannel[] | null =>
  row?.channels?.length ? (row.channels as PersonalChannel[]) : null;

/**
 * What people are told and where: each person's choices over the organisation's defaults (set by
 * an admin), everything on and by email when neither says. Essential messages (approvals asked
 * of someone, a request rejected or failed, access revoked) cannot be turned off. A person's
 * Slack incoming webhook is sealed under the master key and only shown back masked. Webhooks and
 * Slack channels set up by admins are not a person's to turn off. Every change is audited.
 */
@Injectable()
export class PreferencesService {
  constructor(
    private readonly repository: NotificationsRepository,
    private readonly bus: MessageBus,
    private readonly secrets: SecretBox,
    @Inject(SETTINGS) private readonly settings: NotificationSettings,
  ) {}

  async get(userId: string): Promise<NotificationPreferences> {
    const [mine, org] = await Promise.all([this.repository.readChoices(personal(userId)), this.repository.readChoices(ORG)]);
    const overrides = withoutEssentialOff(mine?.event_choices);
    const defaults = { channels: channelsOf(org) ?? [...DEFAULT_CHANNELS], events: withoutEssentialOff(org?.event_choices) };
    return {
      channels: channelsOf(mine) ?? defaults.channels,
      events: effectiveEventChoices(overrides, defaults.events),
      essential: [...ESSENTIAL_EVENT_TYPES],
      overrides: { channels: channelsOf(mine), events: overrides },
      defaults,
      slack: mine?.slack_url_display ? { url: mine.slack_url_display } : null,
      updatedAt: mine ? mine.updated_at.toISOString() : null,
    };
  }

  /** Replaces the person's choices (a type left out follows the organisation's default again; the Slack webhook is kept unless given or null). */
  async set(userId: string, email: string, input: NotificationPreferencesInput, actor: Actor): Promise<NotificationPreferences> {
    const url = input.slackWebhookUrl;
    if (typeof url === 'string') {
      const problem = urlProblem(url, this.settings.allowPrivateUrls);
      if (problem) throw AppException.validation([{ field: 'slackWebhookUrl', rule: problem }]);
    }
    const current = await this.repository.readChoices(personal(userId));
    const willHaveSlack = url === undefined ? Boolean(current?.slack_url_display) : url !== null;
    if (input.channels?.includes('slack') && !willHaveSlack)
      throw AppException.validation([{ field: 'channels', rule: 'may list slack only with a slackWebhookUrl (none is stored)' }]);
    const slack = typeof url === 'string' ? { envelope: this.secrets.seal('slack-webhook-url', url), display: webhookDisplayUrl(url, 'slack') } : url;
    const events = input.events ?? {};
    const row = await this.repository.writeChoices(personal(userId), email, { events, channels: input.channels ?? null, slack });
    // What changed, never the URL: only whether a Slack webhook is set.
    const details = { channels: input.channels ?? null, events, slackWebhook: url === undefined ? 'kept' : url === null ? 'removed' : 'set' };
    await this.bus.request(Contracts.accessAuditAppend, {
      action: 'notification-preferences.updated',
      actor,
      targetType: 'user',
      targetId: userId,
      targetName: email,
      details,
      sourceId: `notification-preferences.updated:${userId}:${row.updated_at.getTime()}`,
    });
    return this.get(userId);
  }

  /** The messages to the person with this address on their own channels (`channel`: one of them), newest first, with every attempt. */
  async deliveries(
    email: string,
    channel: PersonalChannel | undefined,
    pageSize: number,
    pageToken?: string,
  ): Promise<{ items: PersonalDelivery[]; nextPageToken?: string }> {
    const after = pageToken !== undefined ? decodePageToken(pageToken) : undefined;
    if (pageToken !== undefined && !after) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token returned by a previous page' }]);
    const address = email.toLowerCase();
    const targets = (channel ? [channel] : ['slack', 'email']).map((c) => `${c}:${address}`);
    const rows = await this.repository.listPersonalDeliveries(targets, pageSize + 1, after);
    const page = rows.slice(0, pageSize);
    const attempts = await this.repository.attemptsOf(page.map((d) => d.id));
    const items = page.map((d) =>
      toPersonalDelivery(
        d,
        attempts.filter((a) => a.delivery_id === d.id),
      ),
    );
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken({ createdAt: last.createdAt, id: last.id }) } : { items };
  }

  async defaults(): Promise<NotificationDefaults> {
    return this.toDefaults(await this.repository.readChoices(ORG));
  }

  async setDefaults(input: NotificationDefaultsInput, actor: Actor): Promise<NotificationDefaults> {
    const events = input.events ?? {};
    const row = await this.repository.writeChoices(ORG, null, { events, channels: input.channels ?? null, slack: null });
    await this.bus.request(Contracts.accessAuditAppend, {
      action: 'notification-defaults.updated',
      actor,
      targetType: 'notification-defaults',
      targetId: ORG,
      targetName: 'organisation defaults',
      details: { channels: input.channels ?? null, events },
      sourceId: `notification-defaults.updated:${row.updated_at.getTime()}`,
    });
    return this.toDefaults(row);
  }

  private toDefaults(org: PreferencesRow | null): NotificationDefaults {
    return {
      channels: channelsOf(org) ?? [...DEFAULT_CHANNELS],
      events: withoutEssentialOff(org?.event_choices),
      essential: [...ESSENTIAL_EVENT_TYPES],
      updatedAt: org ? org.updated_at.toISOString() : null,
    };
  }
}
