import 'reflect-metadata';
import { LATCHKEY_VERSION, loadConfig, NotificationsEnv } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';
import { NotificationsModule } from './notifications.module';

runMain('notifications', () => {
  const env = loadConfig('notifications', NotificationsEnv);
  return startService({ service: 'notifications', version: LATCHKEY_VERSION, env, imports: [NotificationsModule.forRoot(env)], handleSignals: true });
});
