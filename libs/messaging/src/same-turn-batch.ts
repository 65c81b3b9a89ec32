interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export interface SameTurnBatchOptions<I> {
  /** The most inputs of one run (100). */
  maxSize?: number;
  /**
   * When a run of several inputs throws, run each input alone: one input's failure (a row the
   * statement refuses) is then its own call's, not its neighbours'. Otherwise every call of the run
   * rejects with its error.
   */
  aloneOnFailure?: boolean;
  /**
   * The key of what an input changes (a row's id): inputs of one turn with the same key go in
   * rounds, one after the other (the first of each key in the first round, the second in the next),
   * as calls one after another would; a statement that changes many rows then changes each once.
   */
  keyOf?: (input: I) => unknown;
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
  private readonly keyOf?: (input: I) => unknown;

  constructor(
    private readonly work: (inputs: I[]) => Promise<O[]>,
    options: SameTurnBatchOptions<I> = {},
  ) {
    this.maxSize = options.maxSize ?? 100;
    this.aloneOnFailure = options.aloneOnFailure ?? false;
    this.keyOf = options.keyOf;
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
    void this.runRounds(this.rounds(all));
  }

  /** One round of every input, unless `keyOf`: then a key's n-th input goes in the n-th round. */
  private rounds(all: Array<Waiting<I, O>>): Array<Array<Waiting<I, O>>> {
    if (!this.keyOf) return [all];
    const rounds: Array<Array<Waiting<I, O>>> = [];
    const seen = new Map<unknown, number>();
    for (const w of all) {
      const key = this.keyOf(w.input);
      const k = seen.get(key) ?? 0;
      seen.set(key, k + 1);
      (rounds[k] ??= []).push(w);
    }
    return rounds;
  }

  /** Each round's runs (`maxSize` inputs at most) side by side, a round once the one before has answered. */
  private async runRounds(rounds: Array<Array<Waiting<I, O>>>): Promise<void> {
    for (const round of rounds) {
      const runs: Array<Promise<void>> = [];
      for (let start = 0; start < round.length; start += this.maxSize) runs.push(this.run(round.slice(start, start + this.maxSize)));
      await Promise.all(runs);
    }
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
