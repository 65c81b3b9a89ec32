import { Inject, Injectable, Optional } from '@nestjs/common';
import { IntegrationTarget, PreflightReport } from '@latchkey/contracts';
import { PostgresConfig } from '@latchkey/config';
import { LOGGER, SERVICE_INFO } from '@latchkey/messaging';
import type { AppLogger, ServiceInfo } from '@latchkey/messaging';
import { runPreflight } from '@latchkey/pg-access';
import { MasterKey, resolveSecret, SecretsError } from '@latchkey/secrets';

/** Tests an integration from this connector: resolve its secret here, connect, report capabilities. */
@Injectable()
export class PreflightService {
  constructor(
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  async run(target: IntegrationTarget): Promise<PreflightReport> {
    const started = Date.now();
    const report = await this.test(target);
    this.logger.info(
      { integrationId: target.integrationId, ok: report.ok, connected: report.connected, tls: report.tls, failed: report.checks.filter((c) => !c.ok).map((c) => c.id), ms: Date.now() - started },
      'integration test ran',
    );
    return report;
  }

  private async test(target: IntegrationTarget): Promise<PreflightReport> {
    const config = PostgresConfig.safeParse(target.config);
    if (target.type !== 'postgresql' || !config.success) {
      return this.failed(`this connector cannot test a ${target.type} integration with this config`);
    }
    let credentials;
    try {
      // Resolved on every test and never cached: env and file secrets may change under us.
      credentials = await resolveSecret(target.secret, { masterKey: this.masterKey, env: process.env });
    } catch (err) {
      if (err instanceof SecretsError) return this.failed(`secret: ${err.message}`);
      throw err;
    }
    return runPreflight(
      { ...config.data, username: credentials.username, password: credentials.password, applicationName: 'latchkey-preflight' },
      { connectorId: this.info.connectorId! },
    );
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
