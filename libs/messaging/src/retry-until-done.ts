import type { AppLogger } from './logger';

/**
 * Start-up work that needs other services (they start in any order): runs it, and on failure
 * again every `retryMs` until it succeeds or `stop()` is called at shutdown.
 */
export class RetryUntilDone {
  private timer?: NodeJS.Timeout;
  private stoppedFlag = false;

  constructor(
    private readonly what: string,
    private readonly work: () => Promise<void>,
    private readonly logger: Pick<AppLogger, 'warn'>,
    private readonly retryMs = 2_000,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  start(): void {
    void this.attempt();
  }

  stop(): void {
    this.stoppedFlag = true;
    clearTimeout(this.timer);
  }

  private async attempt(): Promise<void> {
    try {
      await this.work();
    } catch (err) {
      if (this.stoppedFlag) return;
      this.logger.warn({ err }, `${this.what} not done yet; retrying in ${this.retryMs} ms`);
      this.timer = setTimeout(() => void this.attempt(), this.retryMs);
    }
  }
}
