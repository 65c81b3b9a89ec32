import { effectiveEventChoices, ESSENTIAL_EVENT_TYPES, issuesFromZod, NotificationDefaultsInput, NotificationPreferencesInput } from './index';

describe('notification preferences', () => {
  it('refuses turning an essential message off, naming the field; other types may be turned off', () => {
    const parsed = NotificationPreferencesInput.safeParse({ events: { 'access_request.revoked': false, 'access_request.granted': false } });
    expect(parsed.success).toBe(false);
    expect(issuesFromZod(parsed.error!)).toEqual([{ field: 'events.access_request.revoked', rule: 'is essential and cannot be turned off' }]);
    expect(NotificationDefaultsInput.safeParse({ events: { 'access_request.created': false } }).success).toBe(false);
    expect(NotificationPreferencesInput.parse({ events: { 'access_request.granted': false, 'access_request.revoked': true } }).events).toEqual({
      'access_request.granted': false,
      'access_request.revoked': true,
    });
  });

  it('takes channels from email and slack, at least one and each once, and a Slack webhook URL or null', () => {
    expect(NotificationPreferencesInput.parse({ channels: ['slack', 'email'], slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x' })).toMatchObject({
      channels: ['slack', 'email'],
    });
    expect(NotificationPreferencesInput.parse({ slackWebhookUrl: null })).toEqual({ events: {}, slackWebhookUrl: null });
    const bad = NotificationPreferencesInput.safeParse({ channels: [], slackWebhookUrl: 'slack' });
    expect(
      issuesFromZod(bad.error!)
        .map((i) => i.field)
        .sort(),
    ).toEqual(['channels', 'slackWebhookUrl']);
    expect(issuesFromZod(NotificationPreferencesInput.safeParse({ channels: ['email', 'email'] }).error!)).toEqual([
      { field: 'channels', rule: 'must not list a channel twice' },
    ]);
    expect(NotificationPreferencesInput.safeParse({ channels: ['teams'] }).success).toBe(false);
  });

  it('essential messages apply whatever is stored', () => {
    const applied = effectiveEventChoices({ 'access_request.failed': false, 'access_request.granted': false }, { 'access_request.expiring': false });
    for (const type of ESSENTIAL_EVENT_TYPES) expect(applied[type]).toBe(true);
    expect(applied['access_request.granted']).toBe(false);
    expect(applied['access_request.expiring']).toBe(false);
    expect(applied['access_request.approved']).toBe(true);
  });
});
