import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { SignInService } from './sign-in.service';
import { SsoSignInService } from './sso-sign-in.service';
import { SsoSettingsService } from './sso-settings.service';

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
  ssoSettingsPut(@Payload() { actor, input }: Received<'accessSsoSettingsPut'>) {
    return this.ssoSettings.put(actor, input);
  }

  @Rpc(Contracts.accessSsoSettingsDelete)
  ssoSettingsDelete(@Payload() { actor }: Received<'accessSsoSettingsDelete'>) {
    return this.ssoSettings.remove(actor);
  }

  @Rpc(Contracts.accessSsoSettingsResolve)
  ssoSettingsResolve() {
    return this.ssoSettings.resolve();
  }

  @Rpc(Contracts.accessSessionsCreate)
  createSession(@Payload() request: Received<'accessSessionsCreate'>) {
    return this.signIn.signIn(request);
  }

  @Rpc(Contracts.accessSessionsCreateSso)
  createSsoSession(@Payload() request: Received<'accessSessionsCreateSso'>) {
    return this.sso.signIn(request);
  }

  @Rpc(Contracts.accessSessionsAuthenticate)
  authenticate(@Payload() { sessionHash }: Received<'accessSessionsAuthenticate'>) {
    return this.signIn.authenticate(sessionHash);
  }

  @Rpc(Contracts.accessSessionsEnd)
  endSession(@Payload() request: Received<'accessSessionsEnd'>) {
    return this.signIn.signOut(request);
  }

  @Rpc(Contracts.accessPasswordsSet)
  setPassword(@Payload() request: Received<'accessPasswordsSet'>) {
    return this.signIn.setPassword(request);
  }

  @Rpc(Contracts.accessPasswordLinksCreate)
  createLink(@Payload() { actor, id, purpose }: Received<'accessPasswordLinksCreate'>) {
    return this.signIn.createLink(actor, id, purpose);
  }

  @Rpc(Contracts.accessPasswordLinksBootstrap)
  bootstrapLink() {
    return this.signIn.bootstrapLink();
  }
}
