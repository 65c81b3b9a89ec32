import 'reflect-metadata';
import { ConnectorServiceEnv, loadConfig } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';

runMain('discovery', () => {
  const env = loadConfig('discovery', ConnectorServiceEnv);
  return startService({
    service: 'discovery',
    version: env.CONNECTOR_VERSION,
    env,
    connector: { id: env.CONNECTOR_ID, heartbeatSeconds: env.CONNECTOR_HEARTBEAT_SECONDS },
    imports: [],
    handleSignals: true,
  });
});
