import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { PreferencesService } from './preferences.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class PreferencesRpcController {
  constructor(private readonly preferences: PreferencesService) {}

  @Rpc(Contracts.notificationsPreferencesGet)
  get(@Payload() { userId }: Req<'notificationsPreferencesGet'>) {
    return this.preferences.get(userId);
  }

  @Rpc(Contracts.notificationsPreferencesSet)
  set(@Payload() { userId, email, input, actor }: Req<'notificationsPreferencesSet'>) {
    return this.preferences.set(userId, email, input, actor);
  }

  @Rpc(Contracts.notificationsPersonalDeliveriesList)
  deliveries(@Payload() { email, channel, pageSize, pageToken }: Req<'notificationsPersonalDeliveriesList'>) {
    return this.preferences.deliveries(email, channel, pageSize, pageToken);
  }

  @Rpc(Contracts.notificationsDefaultsGet)
  defaults() {
    return this.preferences.defaults();
  }

  @Rpc(Contracts.notificationsDefaultsSet)
  setDefaults(@Payload() { input, actor }: Req<'notificationsDefaultsSet'>) {
    return this.preferences.setDefaults(input, actor);
  }
}
