import type { AppLogger } from './logger';

/**
 * Work repeated on an interval (sweepers): once at start, then every `intervalMs`, never two runs
 * at once; a failed run is logged and the next interval tries again. `stop()` waits for a run in
 * progress, so shutdown does not cut it off.
 */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly what: string,
    private readonly work: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly logger: AppLogger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
    void this.run();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private run(): Promise<void> {
    this.running ??= this.work()
      .then(
        () => undefined,
        (err: unknown) => this.logger.warn({ err }, `${this.what} failed; the next interval retries`),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
