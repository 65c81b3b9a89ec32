interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export interface SameTurnBatchOptions {
  /** The most inputs of one run (100). */
  maxSize?: number;
  /**
   * When a run of several inputs throws, run each input alone: one input's failure (a row the
   * statement refuses) is then its own call's, not its neighbours'. Otherwise every call of the run
   * rejects with its error.
   */
  aloneOnFailure?: boolean;
}

/**
 * Calls made in the same turn of the event loop answered by one run of `work` over all their
 * inputs (one statement for many rows, say), `maxSize` at most per run. `work` answers one output
 * per input, in their order; when it throws, every call of that run rejects with its error, unless
 * `aloneOnFailure`. A lone call waits for nothing but the end of the turn.
 */
export class SameTurnBatch<I, O> {
  private waiting: Array<Waiting<I, O>> = [];
  private readonly maxSize: number;
  private readonly aloneOnFailure: boolean;

  constructor(
    private readonly work: (inputs: I[]) => Promise<O[]>,
    options: SameTurnBatchOptions = {},
  ) {
    this.maxSize = options.maxSize ?? 100;
    this.aloneOnFailure = options.aloneOnFailure ?? false;
  }

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const all = this.waiting;
    this.waiting = [];
    for (let start = 0; start < all.length; start += this.maxSize) void this.run(all.slice(start, start + this.maxSize));
  }

  private async run(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const outputs = await this.work(batch.map((w) => w.input));
      if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} was answered with ${outputs.length}`);
      batch.forEach((w, k) => w.resolve(outputs[k]!));
    } catch (error) {
      if (this.aloneOnFailure && batch.length > 1) await Promise.all(batch.map((w) => this.run([w])));
      else batch.forEach((w) => w.reject(error));
    }
  }
}
