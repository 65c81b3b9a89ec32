import { Inject, Injectable, Optional } from '@nestjs/common';
import { IntegrationTarget, PreflightReport } from '@latchkey/contracts';
import { LOGGER, SERVICE_INFO } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { TargetConfigError, targetConnectionParams, TargetDatabase } from '@latchkey/pg-access';
import { MasterKey } from '@latchkey/secrets';

/** Tests an integration from this connector: resolve its secret here, connect, report capabilities. */
@Injectable()
export class PreflightService {
  constructor(
    private readonly database: TargetDatabase,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  async run(target: IntegrationTarget): Promise<PreflightReport> {
    const started = Date.now();
    const report = await this.test(target);
    this.logger.info(
      {
        integrationId: target.integrationId,
        ok: report.ok,
        connected: report.connected,
        tls: report.tls,
        failed: report.checks.filter((c) => !c.ok).map((c) => c.id),
        ms: Date.now() - started,
      },
      'integration test ran',
    );
    return report;
  }

  private async test(target: IntegrationTarget): Promise<PreflightReport> {
    try {
      const { params } = await targetConnectionParams(target, { masterKey: this.masterKey, env: process.env, applicationName: 'latchkey-preflight' });
      return await this.database.runPreflight(params, { connectorId: this.info.connectorId! });
    } catch (err) {
      if (err instanceof TargetConfigError) return this.failed(err.message);
      throw err;
    }
  }

  private failed(detail: string): PreflightReport {
    return {
      ok: false,
      testedAt: new Date().toISOString(),
      connectorId: this.info.connectorId!,
      connected: false,
      tls: false,
      checks: [{ id: 'connect', ok: false, detail }],
    };
  }
}
