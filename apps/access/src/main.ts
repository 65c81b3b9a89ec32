import 'reflect-metadata';
import { AccessEnv, LATCHKEY_VERSION, loadConfig } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';
import { AccessModule } from './access.module';

runMain('access', () => {
  const env = loadConfig('access', AccessEnv);
  return startService({ service: 'access', version: LATCHKEY_VERSION, env, imports: [AccessModule.forRoot(env)], handleSignals: true });
});
