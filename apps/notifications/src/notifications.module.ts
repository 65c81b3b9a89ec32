import { DynamicModule, Module } from '@nestjs/common';
import { NotificationsEnv } from '@latchkey/config';
import { PersistenceModule } from '@latchkey/persistence';
import { provideQueueHost } from '@latchkey/queues';
import { loadOptionalMasterKey, MasterKey } from '@latchkey/secrets';
import { DeliveryService } from './delivery/delivery.service';
import { NotificationsProcessor } from './jobs/notifications.processor';
import { NOTIFICATIONS_QUEUE, notificationsQueue, NotificationsQueue } from './delivery/notifications.queue';
import { NotificationsSweeper } from './jobs/notifications.sweeper';
import { Mailer, SMTP_SETTINGS } from './channels/mailer';
import { AlertsService } from './events/alerts.service';
import { IngestService } from './events/ingest.service';
import { PreferencesRpcController } from './preferences/preferences.rpc.controller';
import { PreferencesService } from './preferences/preferences.service';
import { SETTINGS, settingsFrom } from './settings';
import { NotificationsRepository } from './store/notifications.repository';
import { SecretBox } from './store/secret-box';
import { WebhooksRpcController } from './webhooks/webhooks.rpc.controller';
import { WebhooksService } from './webhooks/webhooks.service';
import { MIGRATIONS } from './migrations';

export const NOTIFICATIONS_SCHEMA = 'notifications';

/** Webhooks (Standard Webhooks, Slack Block Kit), email, expiry warnings; every table in the `notifications` schema. */
@Module({})
export class NotificationsModule {
  static forRoot(env: NotificationsEnv): DynamicModule {
    const masterKey = loadOptionalMasterKey(env);
    const settings = settingsFrom(env);
    return {
      module: NotificationsModule,
      imports: [
        PersistenceModule.forService({
          url: env.LATCHKEY_DATABASE_URL,
          schema: NOTIFICATIONS_SCHEMA,
          entities: [],
          migrations: MIGRATIONS,
          poolSize: 10,
        }),
      ],
      controllers: [WebhooksRpcController, PreferencesRpcController],
      providers: [
        provideQueueHost(NOTIFICATIONS_QUEUE, notificationsQueue(settings.concurrency), env.REDIS_URL),
        { provide: SETTINGS, useValue: settings },
        { provide: SMTP_SETTINGS, useValue: { url: env.SMTP_URL, from: env.SMTP_FROM } },
        ...(masterKey ? [{ provide: MasterKey, useValue: masterKey }] : []),
        SecretBox,
        NotificationsRepository,
        NotificationsQueue,
        Mailer,
        IngestService,
        DeliveryService,
        WebhooksService,
        PreferencesService,
        NotificationsProcessor,
        NotificationsSweeper,
        AlertsService,
      ],
    };
  }
}
