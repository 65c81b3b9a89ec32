import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { metricsContract, ServiceName } from '@latchkey/contracts';
import type { ProcessMetrics } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access, MetricsScrape } from '../auth/auth.guard';
import { systemMetricsText } from './system-metrics';

/** How long to wait for the first process of a service (well within Prometheus's default scrape timeout of 10 s). */
const FIRST_ANSWER_MS = 5_000;
/** After the last replica's answer, how long to wait for another one. */
const STALL_MS = 300;

@Controller()
export class MetricsHttpController {
  constructor(private readonly bus: MessageBus) {}

  /**
   * Prometheus text for the whole system: every process of every service (replicas and connectors
   * in other networks included) answers over NATS, and the answers are added up here. For admins,
   * or for the METRICS_TOKEN bearer (Prometheus's `authorization` setting).
   */
  @Get('metrics')
  @Access('admin')
  @MetricsScrape()
  async metrics(@Res() res: Response) {
    const answers = new Map<ServiceName, ProcessMetrics[]>(
      await Promise.all(
        ServiceName.options.map(
          async (service) => [service, await this.bus.gather(metricsContract(service), {}, { maxWaitMs: FIRST_ANSWER_MS, stallMs: STALL_MS })] as const,
        ),
      ),
    );
    const { contentType, text } = await systemMetricsText(answers);
    res.status(200).setHeader('cache-control', 'no-store').type(contentType).send(text);
  }
}
