import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';
import { Rpc } from '@latchkey/messaging';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class IdentitiesRpcController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
  ) {}

  @Rpc(Contracts.accessAuthAuthenticate)
  authenticate(@Payload() { tokenHash }: Req<'accessAuthAuthenticate'>) {
    return this.tokens.authenticate(tokenHash);
  }

  @Rpc(Contracts.accessUsersCreate)
  createUser(@Payload() { actor, input }: Req<'accessUsersCreate'>) {
    return this.users.create(actor, input);
  }

  @Rpc(Contracts.accessUsersList)
  listUsers(@Payload() query: Req<'accessUsersList'>) {
    return this.users.list(query);
  }

  @Rpc(Contracts.accessUsersGet)
  getUser(@Payload() { id }: Req<'accessUsersGet'>) {
    return this.users.get(id);
  }

  @Rpc(Contracts.accessUsersUpdate)
  updateUser(@Payload() { actor, id, input }: Req<'accessUsersUpdate'>) {
    return this.users.update(actor, id, input);
  }

  @Rpc(Contracts.accessUsersDelete)
  deleteUser(@Payload() { actor, id }: Req<'accessUsersDelete'>) {
    return this.users.delete(actor, id);
  }

  @Rpc(Contracts.accessUsersSetActive)
  setUserActive(@Payload() { actor, id, active }: Req<'accessUsersSetActive'>) {
    return this.users.setActive(actor, id, active);
  }

  @Rpc(Contracts.accessGroupsCreate)
  createGroup(@Payload() { actor, input }: Req<'accessGroupsCreate'>) {
    return this.users.createGroup(actor, input);
  }

  @Rpc(Contracts.accessGroupsList)
  listGroups(@Payload() query: Req<'accessGroupsList'>) {
    return this.users.listGroups(query);
  }

  @Rpc(Contracts.accessGroupsUpdate)
  updateGroup(@Payload() { actor, id, input }: Req<'accessGroupsUpdate'>) {
    return this.users.updateGroup(actor, id, input);
  }

  @Rpc(Contracts.accessGroupsDelete)
  deleteGroup(@Payload() { actor, id }: Req<'accessGroupsDelete'>) {
    return this.users.deleteGroup(actor, id);
  }

  @Rpc(Contracts.accessTokensCreate)
  createToken(@Payload() { actor, input }: Req<'accessTokensCreate'>) {
    return this.tokens.create(actor, input);
  }

  @Rpc(Contracts.accessTokensList)
  listTokens(@Payload() { actor, ...query }: Req<'accessTokensList'>) {
    return this.tokens.list(actor, query);
  }

  @Rpc(Contracts.accessTokensRevoke)
  revokeToken(@Payload() { actor, id }: Req<'accessTokensRevoke'>) {
    return this.tokens.revoke(actor, id);
  }
}
