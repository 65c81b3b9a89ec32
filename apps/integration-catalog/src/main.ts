import 'reflect-metadata';
import { CatalogEnv, LATCHKEY_VERSION, loadConfig } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';
import { CatalogModule } from './catalog.module';

runMain('integration-catalog', () => {
  const env = loadConfig('integration-catalog', CatalogEnv);
  return startService({ service: 'integration-catalog', version: LATCHKEY_VERSION, env, imports: [CatalogModule.forRoot(env)], handleSignals: true });
});
