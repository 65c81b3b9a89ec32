/**
 * One run of `work` at a time in this process. A call during a run makes it go round once more
 * after the current round (so what was added meanwhile is seen) and waits for that; a call when
 * idle starts a run. Every caller's promise settles when the runs end (rejects if a round threw).
 */
export class CoalescedRun {
  private running?: Promise<void>;
  private again = false;

  constructor(private readonly work: () => Promise<void>) {}

  /** Whether a run is under way. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.work();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
