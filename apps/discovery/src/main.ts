import 'reflect-metadata';
import { DiscoveryEnv, loadConfig } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';
import { DiscoveryModule } from './discovery.module';

runMain('discovery', () => {
  const env = loadConfig('discovery', DiscoveryEnv);
  return startService({
    service: 'discovery',
    version: env.CONNECTOR_VERSION,
    env,
    connector: { id: env.CONNECTOR_ID, heartbeatSeconds: env.CONNECTOR_HEARTBEAT_SECONDS },
    imports: [DiscoveryModule.forRoot(env)],
    handleSignals: true,
  });
});
