import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { ScimService } from './scim.service';

@Controller()
export class ScimRpcController {
  constructor(private readonly scim: ScimService) {}

  @Rpc(Contracts.accessScimTokensCreate)
  createToken(@Payload() { actor, input }: Received<'accessScimTokensCreate'>) {
    return this.scim.createToken(actor, input.name);
  }

  @Rpc(Contracts.accessScimTokensList)
  listTokens() {
    return this.scim.listTokens();
  }

  @Rpc(Contracts.accessScimTokensRevoke)
  revokeToken(@Payload() { actor, id }: Received<'accessScimTokensRevoke'>) {
    return this.scim.revokeToken(actor, id);
  }

  @Rpc(Contracts.accessScimCall)
  call(@Payload() call: Received<'accessScimCall'>) {
    return this.scim.handle(call);
  }
}
