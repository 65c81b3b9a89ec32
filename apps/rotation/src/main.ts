import 'reflect-metadata';
import { loadConfig, RotationEnv } from '@latchkey/config';
import { runMain, startService } from '@latchkey/messaging';
import { RotationModule } from './rotation.module';

runMain('rotation', () => {
  const env = loadConfig('rotation', RotationEnv);
  return startService({
    service: 'rotation',
    version: env.CONNECTOR_VERSION,
    env,
    connector: { id: env.CONNECTOR_ID, heartbeatSeconds: env.CONNECTOR_HEARTBEAT_SECONDS },
    imports: [RotationModule.forRoot(env)],
    handleSignals: true,
  });
});
