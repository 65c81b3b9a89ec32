import 'reflect-metadata';
import { loadConfig, ProvisioningEnv } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';
import { ProvisioningModule } from './provisioning.module';

runMain('provisioning', () => {
  const env = loadConfig('provisioning', ProvisioningEnv);
  return startService({
    service: 'provisioning',
    version: env.CONNECTOR_VERSION,
    env,
    connector: { id: env.CONNECTOR_ID, heartbeatSeconds: env.CONNECTOR_HEARTBEAT_SECONDS },
    imports: [ProvisioningModule.forRoot(env)],
    handleSignals: true,
  });
});
