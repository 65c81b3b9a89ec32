import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { healthContract, HealthReport, ServiceName } from '@latchkey/contracts';
import { MessageBus, Readiness, SERVICE_INFO } from '@latchkey/messaging';
import type { ServiceInfo } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';

export const HEALTH_TIMEOUT_MS = Symbol('HEALTH_TIMEOUT_MS');
const CHECKED: ServiceName[] = ServiceName.options.filter((s) => s !== 'api-gateway');

@Controller()
export class HealthHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly readiness: Readiness,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(HEALTH_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /**
   * 200 once every service answers its health subject; 503 naming those that do not. Each answer
   * carries the service's readiness (its dependencies); those answering but not ready are named
   * in `notReady`.
   */
  @Get('health')
  @Access('public')
  async health(@Res() res: Response) {
    const [answers, own] = await Promise.all([
      Promise.all(
        CHECKED.map((service) =>
          this.bus.request(healthContract(service), {}, { timeoutMs: this.timeoutMs }).then(
            (report): [ServiceName, HealthReport | null] => [service, report],
            (): [ServiceName, HealthReport | null] => [service, null],
          ),
        ),
      ),
      this.readiness.check(),
    ]);
    const missing = answers.filter(([, report]) => !report).map(([service]) => service);
    const services = Object.fromEntries(
      answers.map(([service, report]) => [
        service,
        report
          ? { status: 'ok', version: report.version, uptimeSeconds: report.uptimeSeconds, ready: report.ready, checks: report.checks }
          : { status: 'not answering' },
      ]),
    );
    services['api-gateway'] = {
      status: 'ok',
      version: this.info.version,
      uptimeSeconds: Math.round((Date.now() - this.info.startedAt) / 1000),
      ready: own.ready,
      checks: own.checks,
    };
    const notReady = Object.entries(services)
      .filter(([, s]) => s.ready === false)
      .map(([service]) => service);
    res.status(missing.length ? 503 : 200).json({
      status: missing.length ? 'unavailable' : 'ok',
      ...(missing.length ? { message: `Not answering: ${missing.join(', ')}.`, missing } : {}),
      ...(notReady.length ? { notReady } : {}),
      services,
    });
  }

  /** Liveness of this gateway process: it answers. */
  @Get('livez')
  @Access('public')
  live(@Res() res: Response) {
    res.status(200).setHeader('cache-control', 'no-store').json({ status: 'ok' });
  }

  /** Readiness of this gateway process: NATS answers (503 when not); it keeps no state, so no database to check. */
  @Get('readyz')
  @Access('public')
  async ready(@Res() res: Response) {
    const { ready, checks } = await this.readiness.check();
    res
      .status(ready ? 200 : 503)
      .setHeader('cache-control', 'no-store')
      .json({ status: ready ? 'ready' : 'not ready', checks });
  }
}
