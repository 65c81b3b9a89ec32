import { z } from 'zod';
import { Actor, SYSTEM_ACTOR } from './audit';
import { defineRequest } from './contract';
import { ManagedBy } from './managed';
import { text } from './text';
import { Page, listOf } from './integrations';

const Uuid = z.string().uuid('must be a UUID');

/** Every event a webhook can subscribe to. Published names: never rename one. */
export const NotificationEventType = z.enum([
  'access_request.created',
  'access_request.approved',
  'access_request.rejected',
  'access_request.granted',
  'access_request.expiring',
  'access_request.expired',
  'access_request.revoked',
  'access_request.failed',
  'access_request.partially_approved',
  'access_request.reminder',
  'access_request.escalated',
  'integration.error',
  'grant.revocation_stuck',
  'connector.disconnected',
  'audit.chain_broken',
  'webhook.test',
]);
export type NotificationEventType = z.infer<typeof NotificationEventType>;

export const WebhookFormat = z.enum(['standard', 'slack']);
export type WebhookFormat = z.infer<typeof WebhookFormat>;

export const WebhookFilters = z
  .object({
    integrationIds: z.array(Uuid).max(200, 'must list at most 200 ids').optional(),
    flowIds: z.array(Uuid).max(200, 'must list at most 200 ids').optional(),
  })
  .strict();
export type WebhookFilters = z.infer<typeof WebhookFilters>;

export const WebhookInput = z
  .object({
    name: text({ min: 1, max: 200, trim: true }),
    /** http(s) only; checked again (DNS included) before every send. */
    url: z
      .string()
      .trim()
      .max(2000, 'must be at most 2000 characters')
      .refine((v) => {
        try {
          return ['http:', 'https:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, 'must be an absolute http:// or https:// URL'),
    format: WebhookFormat.default('standard'),
    events: z
      .array(
        z.union([NotificationEventType.exclude(['webhook.test']), z.literal('*')], {
          error: `must be an event type (${NotificationEventType.options.filter((t) => t !== 'webhook.test').join(', ')}) or *`,
        }),
      )
      .min(1, 'must list at least one event type, or *')
      .max(20, 'must list at most 20 event types'),
    filters: WebhookFilters.optional(),
    active: z.boolean().default(true),
    managedBy: ManagedBy,
  })
  .strict();
export type WebhookInput = z.input<typeof WebhookInput>;

export const Webhook = z.object({
  id: z.string().uuid(),
  name: z.string(),
  /** As given, with any credentials in it masked (`***`); Slack incoming-webhook paths are secrets too. */
  url: z.string(),
  format: WebhookFormat,
  events: z.array(z.string()),
  filters: WebhookFilters,
  active: z.boolean(),
  /** Why Latchkey turned the endpoint off (e.g. it answered 410 Gone); cleared when it is activated again. */
  disabledReason: z.string().nullable(),
  /** Until then, messages carry a signature with the previous secret as well. */
  previousSecretExpiresAt: z.string().nullable(),
  /** The config file that manages the endpoint (`latchkey apply`), or null. */
  managedBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Webhook = z.infer<typeof Webhook>;

/**
 * A webhook URL as it may be shown: credentials and query values masked, and for Slack's incoming
 * webhooks (whose path is the secret) only the first path segment kept. `raw` must be a valid URL.
 */
export function webhookDisplayUrl(raw: string, format: WebhookFormat): string {
  const url = new URL(raw);
  const auth = url.username || url.password ? '***@' : '';
  let path = url.pathname;
  if (format === 'slack') {
    const first = path.split('/').filter(Boolean)[0];
    path = first ? `/${first}/***` : '/';
  }
  const query = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&');
  return `${url.protocol}//${auth}${url.host}${path}${query ? `?${query}` : ''}`;
}

/** Only in the create and rotate answers: the signing secret, shown once. */
export const WebhookCreated = Webhook.extend({ secret: z.string().startsWith('whsec_') });

export const DeliveryStatus = z.enum(['PENDING', 'DELIVERED', 'DEAD']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const DeliveryAttempt = z.object({
  attempt: z.number().int(),
  at: z.string(),
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().int(),
  /** The first bytes of the receiver's answer, or why there was none. */
  responseExcerpt: z.string().nullable(),
  error: z.string().nullable(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const Delivery = z.object({
  id: z.string().uuid(),
  webhookId: z.string().uuid(),
  eventId: z.string(),
  eventType: z.string(),
  /** The `webhook-id` header: the same on every retry and redelivery. */
  messageId: z.string(),
  status: DeliveryStatus,
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  /** Set when the last scheduled attempt failed: the delivery is dead-lettered (redeliver to try again). */
  deadLetteredAt: z.string().nullable(),
  createdAt: z.string(),
  attemptLog: z.array(DeliveryAttempt),
});
export type Delivery = z.infer<typeof Delivery>;

/** The events a person is told of (by email or Slack): each one is a preference. */
export const PersonalEventType = NotificationEventType.extract([
  'access_request.created',
  'access_request.partially_approved',
  'access_request.reminder',
  'access_request.escalated',
  'access_request.approved',
  'access_request.rejected',
  'access_request.granted',
  'access_request.expiring',
  'access_request.expired',
  'access_request.revoked',
  'access_request.failed',
]);
export type PersonalEventType = z.infer<typeof PersonalEventType>;

/**
 * Messages nobody can turn off, neither a person nor an admin's default: an approver asked to
 * decide (the request would wait on someone who never hears of it), and a requester told that
 * the access will not come or was taken away (rejected, failed, revoked). Admin alerts are not
 * personal preferences at all: they always go to their webhooks and ALERTS_EMAIL.
 */
export const ESSENTIAL_EVENT_TYPES: readonly PersonalEventType[] = [
  'access_request.created',
  'access_request.partially_approved',
  'access_request.escalated',
  'access_request.rejected',
  'access_request.failed',
  'access_request.revoked',
];
export const isEssentialEvent = (type: string): boolean => (ESSENTIAL_EVENT_TYPES as readonly string[]).includes(type);

/** Per event type, whether the person is told (true) or not (false); a missing type falls back (person -> organisation -> on). Essential ones cannot be false. */
export const EventChoices = z
  .partialRecord(PersonalEventType, z.boolean({ error: 'must be true or false' }), {
    error: `must map event types (${PersonalEventType.options.join(', ')}) to true or false`,
  })
  .superRefine((choices, ctx) => {
    for (const [type, on] of Object.entries(choices))
      if (on === false && isEssentialEvent(type)) ctx.addIssue({ code: 'custom', path: [type], message: 'is essential and cannot be turned off' });
  });
export type EventChoices = z.infer<typeof EventChoices>;

/** Where a person's messages go: their email address, their own Slack incoming webhook, or both. */
export const PersonalChannel = z.enum(['email', 'slack']);
export type PersonalChannel = z.infer<typeof PersonalChannel>;

export const PersonalChannels = z
  .array(PersonalChannel, { error: 'must list channels (email, slack)' })
  .min(1, 'must list at least one channel')
  .refine((list) => new Set(list).size === list.length, 'must not list a channel twice');

/** Until an admin says otherwise, people are told by email. */
export const DEFAULT_CHANNELS: readonly PersonalChannel[] = ['email'];

/** A Slack incoming-webhook URL (https://hooks.slack.com/services/...); checked again like webhook URLs. */
const SlackWebhookUrl = z
  .string()
  .trim()
  .max(2000, 'must be at most 2000 characters')
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be an absolute https:// URL (a Slack incoming webhook)');

export const NotificationPreferencesInput = z
  .object({
    /** Left out: the organisation's default channels. */
    channels: PersonalChannels.optional(),
    events: EventChoices.default({}),
    /** The person's own Slack incoming webhook: left out keeps the stored one, null removes it. Stored sealed, shown back masked. */
    slackWebhookUrl: SlackWebhookUrl.nullable().optional(),
  })
  .strict();
export type NotificationPreferencesInput = z.input<typeof NotificationPreferencesInput>;

export const NotificationDefaultsInput = z.object({ channels: PersonalChannels.optional(), events: EventChoices.default({}) }).strict();
export type NotificationDefaultsInput = z.input<typeof NotificationDefaultsInput>;

/** Choices as stored and answered (essential ones are never stored as false). */
const StoredChoices = z.partialRecord(PersonalEventType, z.boolean());

/** The organisation's defaults, set by an admin. */
export const NotificationDefaults = z.object({
  channels: z.array(PersonalChannel),
  events: StoredChoices,
  essential: z.array(PersonalEventType),
  updatedAt: z.string().nullable(),
});
export type NotificationDefaults = z.infer<typeof NotificationDefaults>;

/** A person's preferences: what applies, their own choices, the organisation's defaults, and which messages are always on. */
export const NotificationPreferences = z.object({
  channels: z.array(PersonalChannel),
  events: z.record(z.string(), z.boolean()),
  essential: z.array(PersonalEventType),
  overrides: z.object({ channels: z.array(PersonalChannel).nullable(), events: StoredChoices }),
  defaults: z.object({ channels: z.array(PersonalChannel), events: StoredChoices }),
  /** The person's Slack incoming webhook, its secret path masked; null when none is set. */
  slack: z.object({ url: z.string() }).nullable(),
  updatedAt: z.string().nullable(),
});
export type NotificationPreferences = z.infer<typeof NotificationPreferences>;

/** A message to a person's own channel (their Slack webhook or their email address): their delivery log. Never the Slack URL. */
export const PersonalDelivery = z.object({
  id: z.string().uuid(),
  channel: PersonalChannel,
  eventId: z.string(),
  eventType: z.string(),
  /** The access request the message is about. */
  requestId: z.string().uuid().nullable(),
  status: DeliveryStatus,
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  deadLetteredAt: z.string().nullable(),
  /** Why the last attempt failed (an answer's status, a timeout), null once delivered. */
  lastError: z.string().nullable(),
  createdAt: z.string(),
  attemptLog: z.array(DeliveryAttempt),
});
export type PersonalDelivery = z.infer<typeof PersonalDelivery>;

export const PersonalDeliveriesQuery = z.object({ channel: PersonalChannel.optional(), ...Page }).strict();

/** What applies: essential messages always; else the person's choice, else the organisation's default, else on. */
export function effectiveEventChoices(overrides: Record<string, boolean>, defaults: Record<string, boolean>): Record<PersonalEventType, boolean> {
  return Object.fromEntries(PersonalEventType.options.map((t) => [t, isEssentialEvent(t) || (overrides[t] ?? defaults[t] ?? true)])) as Record<
    PersonalEventType,
    boolean
  >;
}

const ById = z.object({ id: Uuid });
const WithActor = z.object({ actor: Actor.default(SYSTEM_ACTOR) });

/** Webhooks, deliveries and people's notification preferences, served by the notifications service. */
export const NotificationContracts = {
  notificationsWebhooksCreate: defineRequest('notifications.webhooks.create', WithActor.extend({ input: WebhookInput }), WebhookCreated),
  notificationsWebhooksList: defineRequest('notifications.webhooks.list', z.object(Page), listOf(Webhook)),
  notificationsWebhooksGet: defineRequest('notifications.webhooks.get', ById, Webhook),
  notificationsWebhooksUpdate: defineRequest('notifications.webhooks.update', ById.extend(WithActor.shape).extend({ input: WebhookInput }), Webhook),
  notificationsWebhooksDelete: defineRequest('notifications.webhooks.delete', ById.extend(WithActor.shape), ById),
  notificationsWebhooksRotateSecret: defineRequest('notifications.webhooks.rotate-secret', ById.extend(WithActor.shape), WebhookCreated),
  notificationsWebhooksTest: defineRequest('notifications.webhooks.test', ById.extend(WithActor.shape), Delivery),
  notificationsDeliveriesList: defineRequest('notifications.deliveries.list', ById.extend({ status: DeliveryStatus.optional(), ...Page }), listOf(Delivery)),
  notificationsPreferencesGet: defineRequest('notifications.preferences.get', z.object({ userId: Uuid }), NotificationPreferences),
  notificationsPreferencesSet: defineRequest(
    'notifications.preferences.set',
    WithActor.extend({ userId: Uuid, email: z.string(), input: NotificationPreferencesInput }),
    NotificationPreferences,
  ),
  notificationsDefaultsGet: defineRequest('notifications.defaults.get', z.object({}), NotificationDefaults),
  notificationsDefaultsSet: defineRequest('notifications.defaults.set', WithActor.extend({ input: NotificationDefaultsInput }), NotificationDefaults),
  /** The deliveries to the person with this address (their Slack, their email), newest first. */
  notificationsPersonalDeliveriesList: defineRequest(
    'notifications.personal-deliveries.list',
    PersonalDeliveriesQuery.extend({ email: z.string() }),
    listOf(PersonalDelivery),
  ),
  notificationsDeliveriesRedeliver: defineRequest('notifications.deliveries.redeliver', ById.extend(WithActor.shape).extend({ deliveryId: Uuid }), Delivery),
} as const;
