import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { ScimService } from './scim.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class ScimRpcController {
  constructor(private readonly scim: ScimService) {}

  @Rpc(Contracts.accessScimTokensCreate)
  createToken(@Payload() { actor, input }: Req<'accessScimTokensCreate'>) {
    return this.scim.createToken(actor, input.name);
  }

  @Rpc(Contracts.accessScimTokensList)
  listTokens() {
    return this.scim.listTokens();
  }

  @Rpc(Contracts.accessScimTokensRevoke)
  revokeToken(@Payload() { actor, id }: Req<'accessScimTokensRevoke'>) {
    return this.scim.revokeToken(actor, id);
  }

  @Rpc(Contracts.accessScimCall)
  call(@Payload() call: Req<'accessScimCall'>) {
    return this.scim.handle(call);
  }
}
