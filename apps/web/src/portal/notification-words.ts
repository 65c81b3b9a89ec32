import type { PersonalChannel, PersonalEventType } from '@latchkey/contracts';

/** What each message to a person is, in the words they see (My notifications, the organisation's defaults). */
export const EVENT_WORDS: Record<PersonalEventType, string> = {
  'access_request.created': 'A request needs my approval',
  'access_request.partially_approved': 'A request reaches my approver group (approvals in turn)',
  'access_request.reminder': 'Reminders of requests still waiting for me',
  'access_request.escalated': 'A request is escalated to me',
  'access_request.approved': 'My request was approved',
  'access_request.rejected': 'My request was rejected',
  'access_request.granted': 'My access is ready',
  'access_request.expiring': 'My access ends soon',
  'access_request.expired': 'My access or request expired',
  'access_request.revoked': 'My access was revoked',
  'access_request.failed': 'My access could not be granted',
};

export const CHANNEL_WORDS: Record<PersonalChannel, string> = { email: 'Email', slack: 'Slack' };

/** A message's event in those words (an event type outside the list as it is). */
export const eventWords = (type: string): string => EVENT_WORDS[type as PersonalEventType] ?? type;
