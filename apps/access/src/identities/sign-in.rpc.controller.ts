import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { SignInService } from './sign-in.service';
import { SsoSignInService } from './sso-sign-in.service';
import { SsoSettingsService } from './sso-settings.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class SignInRpcController {
  constructor(
    private readonly signIn: SignInService,
    private readonly sso: SsoSignInService,
    private readonly ssoSettings: SsoSettingsService,
  ) {}

  @Rpc(Contracts.accessSsoSettingsGet)
  ssoSettingsGet() {
    return this.ssoSettings.view();
  }

  @Rpc(Contracts.accessSsoSettingsPut)
  ssoSettingsPut(@Payload() { actor, input }: Req<'accessSsoSettingsPut'>) {
    return this.ssoSettings.put(actor, input);
  }

  @Rpc(Contracts.accessSsoSettingsDelete)
  ssoSettingsDelete(@Payload() { actor }: Req<'accessSsoSettingsDelete'>) {
    return this.ssoSettings.remove(actor);
  }

  @Rpc(Contracts.accessSsoSettingsResolve)
  ssoSettingsResolve() {
    return this.ssoSettings.resolve();
  }

  @Rpc(Contracts.accessSessionsCreate)
  createSession(@Payload() request: Req<'accessSessionsCreate'>) {
    return this.signIn.signIn(request);
  }

  @Rpc(Contracts.accessSessionsCreateSso)
  createSsoSession(@Payload() request: Req<'accessSessionsCreateSso'>) {
    return this.sso.signIn(request);
  }

  @Rpc(Contracts.accessSessionsAuthenticate)
  authenticate(@Payload() { sessionHash }: Req<'accessSessionsAuthenticate'>) {
    return this.signIn.authenticate(sessionHash);
  }

  @Rpc(Contracts.accessSessionsEnd)
  endSession(@Payload() request: Req<'accessSessionsEnd'>) {
    return this.signIn.signOut(request);
  }

  @Rpc(Contracts.accessPasswordsSet)
  setPassword(@Payload() request: Req<'accessPasswordsSet'>) {
    return this.signIn.setPassword(request);
  }

  @Rpc(Contracts.accessPasswordLinksCreate)
  createLink(@Payload() { actor, id, purpose }: Req<'accessPasswordLinksCreate'>) {
    return this.signIn.createLink(actor, id, purpose);
  }

  @Rpc(Contracts.accessPasswordLinksBootstrap)
  bootstrapLink() {
    return this.signIn.bootstrapLink();
  }
}
