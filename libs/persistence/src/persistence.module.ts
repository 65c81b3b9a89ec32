import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOGGER, Readiness } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { createServiceDataSource, ensureDatabase, markControlDatabase, migrate, type ServiceDatabaseOptions } from './data-source';

/**
 * A service's own tables: `forService` provides its DataSource on its own schema, creates the
 * control database if missing, marks it as Latchkey's own, runs the service's migrations at start (under an advisory lock),
 * registers the control database's readiness check, and closes the pool on shutdown.
 */
@Module({})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forService(options: ServiceDatabaseOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        {
          provide: DataSource,
          inject: [LOGGER, Readiness],
          useFactory: async (logger: AppLogger, readiness: Readiness) => {
            await ensureDatabase(options.url);
            const unmarked = await markControlDatabase(options.url);
            if (unmarked) {
              logger.warn(
                { reason: unmarked },
                "the control database could not be marked as Latchkey's own (run COMMENT ON DATABASE as its owner, see README): an integration pointing at this instance would discover it",
              );
            }
            const dataSource = createServiceDataSource(options);
            const ran = await migrate(dataSource, options.schema);
            if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
            readiness.register('database', () => dataSource.query('SELECT 1'));
            return dataSource;
          },
        },
      ],
      exports: [DataSource],
    };
  }

  async onApplicationShutdown() {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
