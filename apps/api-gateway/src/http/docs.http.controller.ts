import { Controller, Get, Inject } from '@nestjs/common';
import { SERVICE_INFO } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { openApiDocument } from './openapi';

@Controller('api/docs')
export class DocsHttpController {
  private readonly document: ReturnType<typeof openApiDocument>;

  constructor(@Inject(SERVICE_INFO) info: ServiceInfo) {
    this.document = openApiDocument(info.version);
  }

  @Get()
  @Access('public')
  docs() {
    return this.document;
  }
}
