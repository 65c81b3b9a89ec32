import type { NotificationsEnv } from '@latchkey/config';

export const SETTINGS = Symbol('NOTIFICATION_SETTINGS');

/** What the notifications service reads from its environment, once. */
export interface NotificationSettings {
  retrySchedule: readonly number[];
  allowPrivateUrls: boolean;
  timeoutMs: number;
  concurrency: number;
  endpointConcurrency: number;
  secretOverlapHours: number;
  publicUrl: string;
  expiryWarningMs: number;
  sweepIntervalMs: number;
  alertsIntervalMs: number;
  auditVerifyIntervalMs: number;
  /** Where admin alerts are mailed; null: every admin user. */
  alertsEmail: string[] | null;
}

export const settingsFrom = (env: NotificationsEnv): NotificationSettings => ({
  retrySchedule: env.WEBHOOK_RETRY_SCHEDULE,
  allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
  timeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000,
  concurrency: env.WEBHOOK_CONCURRENCY,
  endpointConcurrency: env.WEBHOOK_ENDPOINT_CONCURRENCY,
  secretOverlapHours: env.WEBHOOK_SECRET_OVERLAP_HOURS,
  publicUrl: env.LATCHKEY_PUBLIC_URL,
  expiryWarningMs: env.EXPIRY_WARNING_MINUTES * 60_000,
  sweepIntervalMs: env.NOTIFICATIONS_SWEEP_INTERVAL_SECONDS * 1000,
  alertsIntervalMs: env.ALERTS_INTERVAL_SECONDS * 1000,
  auditVerifyIntervalMs: env.AUDIT_VERIFY_INTERVAL_MINUTES * 60_000,
  alertsEmail: env.ALERTS_EMAIL ?? null,
});
