import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';

@Controller()
export class IdentitiesRpcController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
  ) {}

  @Rpc(Contracts.accessAuthAuthenticate)
  authenticate(@Payload() { tokenHash }: Received<'accessAuthAuthenticate'>) {
    return this.tokens.authenticate(tokenHash);
  }

  @Rpc(Contracts.accessUsersCreate)
  createUser(@Payload() { actor, input }: Received<'accessUsersCreate'>) {
    return this.users.create(actor, input);
  }

  @Rpc(Contracts.accessUsersList)
  listUsers(@Payload() query: Received<'accessUsersList'>) {
    return this.users.list(query);
  }

  @Rpc(Contracts.accessUsersGet)
  getUser(@Payload() { id }: Received<'accessUsersGet'>) {
    return this.users.get(id);
  }

  @Rpc(Contracts.accessUsersUpdate)
  updateUser(@Payload() { actor, id, input }: Received<'accessUsersUpdate'>) {
    return this.users.update(actor, id, input);
  }

  @Rpc(Contracts.accessUsersDelete)
  deleteUser(@Payload() { actor, id }: Received<'accessUsersDelete'>) {
    return this.users.delete(actor, id);
  }

  @Rpc(Contracts.accessUsersSetActive)
  setUserActive(@Payload() { actor, id, active }: Received<'accessUsersSetActive'>) {
    return this.users.setActive(actor, id, active);
  }

  @Rpc(Contracts.accessGroupsCreate)
  createGroup(@Payload() { actor, input }: Received<'accessGroupsCreate'>) {
    return this.users.createGroup(actor, input);
  }

  @Rpc(Contracts.accessGroupsList)
  listGroups(@Payload() query: Received<'accessGroupsList'>) {
    return this.users.listGroups(query);
  }

  @Rpc(Contracts.accessGroupsUpdate)
  updateGroup(@Payload() { actor, id, input }: Received<'accessGroupsUpdate'>) {
    return this.users.updateGroup(actor, id, input);
  }

  @Rpc(Contracts.accessGroupsDelete)
  deleteGroup(@Payload() { actor, id }: Received<'accessGroupsDelete'>) {
    return this.users.deleteGroup(actor, id);
  }

  @Rpc(Contracts.accessTokensCreate)
  createToken(@Payload() { actor, input }: Received<'accessTokensCreate'>) {
    return this.tokens.create(actor, input);
  }

  @Rpc(Contracts.accessTokensList)
  listTokens(@Payload() { actor, ...query }: Received<'accessTokensList'>) {
    return this.tokens.list(actor, query);
  }

  @Rpc(Contracts.accessTokensRevoke)
  revokeToken(@Payload() { actor, id }: Received<'accessTokensRevoke'>) {
    return this.tokens.revoke(actor, id);
  }
}
