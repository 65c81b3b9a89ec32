import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  Controller,
  DynamicModule,
  ExceptionFilter,
  Global,
  INestApplication,
  INestMicroservice,
  Inject,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Provider,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CONNECTOR_SERVICES, Contracts, healthContract, HealthReport, metricsContract, ServiceName } from '@latchkey/contracts';
import type { AppLogger } from './logger';
import { createLogger, NestPinoLogger } from './logger';
import { ConnectorClient } from './connector-client';
import { MessageBus } from './message-bus';
import { LatchkeyNatsServer } from './nats-server';
import { OnEvent, Rpc } from './rpc.decorators';
import { Readiness, startProbeListener } from './readiness';
import { startMemoryRelease } from './memory-release';
import { RpcEnvelopeFilter } from './rpc-exception.filter';
import { ServiceMetrics } from './service-metrics';

/** How long the HTTP server keeps an idle keep-alive connection: longer than the clients' and proxies' own idle timeouts. */
const HTTP_KEEP_ALIVE_MS = 65_000;

export const LOGGER = Symbol('LOGGER');
export const SERVICE_INFO = Symbol('SERVICE_INFO');

export interface ServiceInfo {
  readonly service: ServiceName;
  readonly version: string;
  readonly instanceId: string;
  readonly startedAt: number;
  readonly connectorId?: string;
  readonly heartbeatSeconds?: number;
}

export interface ServiceHostOptions {
  service: ServiceName;
  version: string;
  /** The validated common environment (libs/config CommonEnv). */
  env: { NATS_URL: string; LOG_LEVEL: string; NATS_REQUEST_TIMEOUT_MS: number; PROBE_PORT?: number; PROBE_HOST?: string };
  /** The service's own modules. */
  imports: Array<Type | DynamicModule>;
  /** Connector services: their id and heartbeat interval. */
  connector?: { id: string; heartbeatSeconds: number };
  /** The gateway: serve HTTP as well. */
  http?: { port: number; host: string; exceptionFilter: ExceptionFilter; configure?: (app: INestApplication) => void | Promise<void> };
  /** Exit cleanly on SIGTERM/SIGINT (services); in-process tests leave it off. */
  handleSignals?: boolean;
  logger?: AppLogger;
}

export interface ServiceHandle {
  readonly app: INestApplication | INestMicroservice;
  readonly info: ServiceInfo;
  readonly logger: AppLogger;
  /** The HTTP address, for the gateway. */
  readonly url?: string;
  /** The liveness/readiness listener's address, when PROBE_PORT is set. */
  readonly probeUrl?: string;
  readonly metrics: ServiceMetrics;
  readonly readiness: Readiness;
  close(): Promise<void>;
}

function healthController(service: ServiceName) {
  @Controller()
  class HealthRpcController {
    constructor(
      @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
      private readonly readiness: Readiness,
    ) {}

    /** Answers while the process runs (liveness), with its readiness: what each dependency said. */
    @Rpc(healthContract(service))
    async check(): Promise<HealthReport> {
      const { ready, checks } = await this.readiness.check();
      return {
        service: this.info.service,
        status: 'ok',
        version: this.info.version,
        instanceId: this.info.instanceId,
        ...(this.info.connectorId ? { connectorId: this.info.connectorId } : {}),
        uptimeSeconds: Math.round((Date.now() - this.info.startedAt) / 1000),
        ready,
        checks,
      };
    }
  }
  return HealthRpcController;
}

/**
 * Announces this connector service on an interval, so the catalog knows the connector is alive,
 * and at once when a (re)started catalog asks.
 */
@Controller()
class ConnectorHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    private readonly bus: MessageBus,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), (this.info.heartbeatSeconds ?? 5) * 1000);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  @OnEvent(Contracts.catalogConnectorsAnnounceRequested)
  announce() {
    return this.beat();
  }

  private async beat() {
    try {
      await this.bus.publish(Contracts.connectorHeartbeat, {
        connectorId: this.info.connectorId!,
        version: this.info.version,
        service: this.info.service,
        instanceId: this.info.instanceId,
        sentAt: new Date().toISOString(),
      });
    } catch (err) {
      this.logger.warn({ err }, 'heartbeat not sent');
    }
  }
}

@Global()
@Module({})
class CoreModule {
  static forRoot(
    info: ServiceInfo,
    bus: MessageBus,
    connectors: ConnectorClient,
    logger: AppLogger,
    metrics: ServiceMetrics,
    readiness: Readiness,
  ): DynamicModule {
    const providers: Provider[] = [
      { provide: SERVICE_INFO, useValue: info },
      { provide: MessageBus, useValue: bus },
      { provide: ConnectorClient, useValue: connectors },
      { provide: LOGGER, useValue: logger },
      { provide: ServiceMetrics, useValue: metrics },
      { provide: Readiness, useValue: readiness },
    ];
    const isConnector = (CONNECTOR_SERVICES as readonly string[]).includes(info.service);
    return {
      module: CoreModule,
      controllers: isConnector ? [healthController(info.service), ConnectorHeartbeat] : [healthController(info.service)],
      providers,
      exports: [SERVICE_INFO, MessageBus, ConnectorClient, LOGGER, ServiceMetrics, Readiness],
    };
  }
}

/**
 * Starts one Latchkey service: a NestJS app on the NATS transport in the service's queue group,
 * answering its health subject, with JSON logs, error envelopes and correlation ids; connector
 * services also heartbeat. The gateway additionally serves HTTP.
 */
export async function startService(options: ServiceHostOptions): Promise<ServiceHandle> {
  const logger = options.logger ?? createLogger(options.service, options.env.LOG_LEVEL);
  const info: ServiceInfo = {
    service: options.service,
    version: options.version,
    instanceId: randomUUID(),
    startedAt: Date.now(),
    connectorId: options.connector?.id,
    heartbeatSeconds: options.connector?.heartbeatSeconds,
  };
  const metrics = new ServiceMetrics(options.service, options.connector?.id);
  const readiness = new Readiness(logger);
  const bus = new MessageBus(options.env.NATS_URL, `${options.service}-client`, options.env.NATS_REQUEST_TIMEOUT_MS);
  bus.observeWith(metrics);
  await bus.connect();
  readiness.register('nats', () => bus.ping());
  bus.serveEveryProcess(metricsContract(options.service), async () => ({ instanceId: info.instanceId, metrics: await metrics.collect() }));
  const connectors = new ConnectorClient(bus);
  bus.onEveryProcess(Contracts.catalogIntegrationChanged, ({ integrationId }) => connectors.forget(integrationId));

  @Module({ imports: [CoreModule.forRoot(info, bus, connectors, logger, metrics, readiness), ...options.imports] })
  class RootModule {}

  const strategy = new LatchkeyNatsServer(options.env.NATS_URL, options.service, options.connector?.id);
  const nestLogger = new NestPinoLogger(logger);
  let app: INestApplication | INestMicroservice;
  let url: string | undefined;
  try {
    if (options.http) {
      const httpApp = await NestFactory.create(RootModule, { logger: nestLogger, abortOnError: false, bodyParser: false });
      // One filter for both sides: HTTP errors go to the gateway's filter, NATS ones become envelopes.
      httpApp.useGlobalFilters(new RpcEnvelopeFilter(logger, options.http.exceptionFilter));
      httpApp.connectMicroservice({ strategy }, { inheritAppConfig: true });
      await options.http.configure?.(httpApp);
      await httpApp.startAllMicroservices();
      await httpApp.listen(options.http.port, options.http.host);
      const server: Server = httpApp.getHttpServer();
      // An idle keep-alive connection outlives its clients' own idle timeouts (undici closes at the
      // server's hint less a margin, load balancers commonly at 60 s), so no client sends a request
      // on a connection the server is closing at that moment: a request lost as "other side closed".
      server.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
      server.headersTimeout = HTTP_KEEP_ALIVE_MS + 1_000;
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : options.http.port}`;
      app = httpApp;
    } else {
      const micro = await NestFactory.createMicroservice(RootModule, { strategy, logger: nestLogger, abortOnError: false });
      micro.useGlobalFilters(new RpcEnvelopeFilter(logger));
      await micro.listen();
      app = micro;
    }
  } catch (err) {
    await bus.close();
    throw err;
  }
  let probe: Awaited<ReturnType<typeof startProbeListener>> | undefined;
  if (options.env.PROBE_PORT !== undefined) {
    try {
      probe = await startProbeListener(readiness, options.env.PROBE_PORT, options.env.PROBE_HOST ?? '0.0.0.0');
    } catch (err) {
      await app.close();
      await bus.close();
      throw err;
    }
  }
  const probeUrl = probe ? `http://127.0.0.1:${probe.port}` : undefined;
  const memory = startMemoryRelease(logger);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('stopping');
      memory.stop();
      probe?.server.close();
      await app.close();
      await bus.close();
      logger.info('stopped');
    })());

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        close().then(
          () => process.exit(0),
          (err) => {
            logger.error({ err }, 'unclean stop');
            process.exit(1);
          },
        );
      });
    }
  }
  logger.info({ version: info.version, connectorId: info.connectorId, url, probeUrl, node: process.version }, 'started');
  return { app, info, logger, url, probeUrl, metrics, readiness, close };
}

/** Entry point of a service process: a start-up failure is one clear line and exit code 1. */
export function runMain(service: ServiceName, start: () => Promise<unknown>): void {
  Promise.resolve()
    .then(start)
    .catch((err: Error) => {
      process.stderr.write(`${service} failed to start: ${err.message}\n`);
      process.exit(1);
    });
}
