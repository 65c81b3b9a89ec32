import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { healthContract, HealthReport, ServiceName } from '@latchkey/contracts';
import { MessageBus, SERVICE_INFO } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';

export const HEALTH_TIMEOUT_MS = Symbol('HEALTH_TIMEOUT_MS');
const CHECKED: ServiceName[] = ServiceName.options.filter((s) => s !== 'api-gateway');

@Controller()
export class HealthHttpController {
  constructor(
    private readonly bus: MessageBus,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(HEALTH_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /** 200 once every service answers its health subject; 503 naming those that do not. */
  @Get('health')
  @Access('public')
  async health(@Res() res: Response) {
    const answers = await Promise.all(
      CHECKED.map((service) =>
        this.bus.request(healthContract(service), {}, { timeoutMs: this.timeoutMs }).then(
          (report): [ServiceName, HealthReport | null] => [service, report],
          (): [ServiceName, HealthReport | null] => [service, null],
        ),
      ),
    );
    const missing = answers.filter(([, report]) => !report).map(([service]) => service);
    const services = Object.fromEntries(
      answers.map(([service, report]) => [service, report ? { status: 'ok', version: report.version, uptimeSeconds: report.uptimeSeconds } : { status: 'not answering' }]),
    );
    services['api-gateway'] = { status: 'ok', version: this.info.version, uptimeSeconds: Math.round((Date.now() - this.info.startedAt) / 1000) };
    res.status(missing.length ? 503 : 200).json({
      status: missing.length ? 'unavailable' : 'ok',
      ...(missing.length ? { message: `Not answering: ${missing.join(', ')}.`, missing } : {}),
      services,
    });
  }
}
