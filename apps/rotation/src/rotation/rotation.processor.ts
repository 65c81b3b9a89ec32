import { Inject, Injectable } from '@nestjs/common';
import { withCorrelation } from '@latchkey/messaging';
import { QueueProcessor } from '@latchkey/queues';
import type { JobHandlers, QueueHost } from '@latchkey/queues';
import { ROTATION_QUEUE } from './rotation.queue';
import { RotationSchedule } from './rotation-schedule.service';

/** Runs the connector's scheduled rotations. */
@Injectable()
export class RotationProcessor extends QueueProcessor<'rotate-integration'> {
  constructor(
    @Inject(ROTATION_QUEUE) host: QueueHost<'rotate-integration'>,
    private readonly schedule: RotationSchedule,
  ) {
    super(host);
  }

  protected handlers(): JobHandlers<'rotate-integration'> {
    return { 'rotate-integration': ({ integrationId }) => withCorrelation(undefined, () => this.schedule.scheduled(integrationId)) };
  }
}
