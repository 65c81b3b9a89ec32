import { Controller } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import { INTEGRATION_TYPES } from '@latchkey/config';
import { Rpc } from '@latchkey/messaging';

@Controller()
export class CatalogTypesRpcController {
  @Rpc(Contracts.catalogTypesList)
  list() {
    return { items: Object.values(INTEGRATION_TYPES).map((t) => t.description) };
  }
}
