import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { PreferencesService } from './preferences.service';

@Controller()
export class PreferencesRpcController {
  constructor(private readonly preferences: PreferencesService) {}

  @Rpc(Contracts.notificationsPreferencesGet)
  get(@Payload() { userId }: Received<'notificationsPreferencesGet'>) {
    return this.preferences.get(userId);
  }

  @Rpc(Contracts.notificationsPreferencesSet)
  set(@Payload() { userId, email, input, actor }: Received<'notificationsPreferencesSet'>) {
    return this.preferences.set(userId, email, input, actor);
  }

  @Rpc(Contracts.notificationsPersonalDeliveriesList)
  deliveries(@Payload() { email, channel, pageSize, pageToken }: Received<'notificationsPersonalDeliveriesList'>) {
    return this.preferences.deliveries(email, channel, pageSize, pageToken);
  }

  @Rpc(Contracts.notificationsDefaultsGet)
  defaults() {
    return this.preferences.defaults();
  }

  @Rpc(Contracts.notificationsDefaultsSet)
  setDefaults(@Payload() { input, actor }: Received<'notificationsDefaultsSet'>) {
    return this.preferences.setDefaults(input, actor);
  }
}
