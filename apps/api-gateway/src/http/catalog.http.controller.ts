import { Controller, Get } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';

@Controller('api/v1')
export class CatalogHttpController {
  constructor(private readonly bus: MessageBus) {}

  @Get('catalog')
  @Access('authenticated')
  catalog() {
    return this.bus.request(Contracts.catalogTypesList, {});
  }

  @Get('connectors')
  @Access('admin')
  connectors() {
    return this.bus.request(Contracts.catalogConnectorsList, {});
  }
}
