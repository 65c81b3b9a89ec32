import { DynamicModule, Module } from '@nestjs/common';
import { RotationEnv } from '@latchkey/config';
import { provideQueueHost } from '@latchkey/queues';
import { TargetDatabase } from '@latchkey/pg-access';
import { loadOptionalMasterKey, MasterKey } from '@latchkey/secrets';
import { RotationProcessor } from './rotation/rotation.processor';
import { ROTATION_QUEUE, rotationQueue, RotationQueue } from './rotation/rotation.queue';
import { RotationRpcController } from './rotation/rotation.rpc.controller';
import { RotationSchedule } from './rotation/rotation-schedule.service';
import { DAY_MS, RotationService } from './rotation/rotation.service';

/** Rotation keeps no tables: secret versions and rotation state live with the integration in the catalog. */
@Module({})
export class RotationModule {
  static forRoot(env: RotationEnv): DynamicModule {
    // Needed to open and seal builtin secrets; without it every run fails with that reason.
    const masterKey = loadOptionalMasterKey(env);
    return {
      module: RotationModule,
      controllers: [RotationRpcController],
      providers: [
        provideQueueHost(ROTATION_QUEUE, rotationQueue, env.REDIS_URL),
        { provide: DAY_MS, useValue: env.ROTATION_DAY_SECONDS * 1000 },
        ...(masterKey ? [{ provide: MasterKey, useValue: masterKey }] : []),
        { provide: TargetDatabase, useValue: new TargetDatabase() },
        RotationService,
        RotationQueue,
        RotationSchedule,
        RotationProcessor,
      ],
    };
  }
}
