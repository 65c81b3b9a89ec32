/** Reads kept at most this many; past it the whole map starts again (a hot path's working set is far smaller). */
const MAX_KEPT = 10_000;

interface Kept<T> {
  at: number;
  read: Promise<T>;
  /** The group the answer belongs to (see `groupOf`), known once the read answered. */
  group?: string;
}

/**
 * Answers of another service read a moment ago, reused on a hot path for `reuseMs` at most and
 * forgotten at once when a change is announced: by key, or by group (`groupOf` of the answer, the
 * integration of a resource, say; a read still unanswered may be of any group). A failed read is
 * not kept, nor one forgotten while it was unanswered.
 */
export class RecentReads<T> {
  private readonly recent = new Map<string, Kept<T>>();

  constructor(
    private readonly reuseMs: number,
    private readonly groupOf: (answer: T) => string | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The answer read at most `reuseMs` ago and not changed since, else `read()` now. */
  get(key: string, read: () => Promise<T>): Promise<T> {
    const hit = this.recent.get(key);
    if (hit && this.now() - hit.at < this.reuseMs) return hit.read;
    return this.keep(key, read());
  }

  /** Keeps a read made now, for the next `get`; answers it. */
  keep(key: string, read: Promise<T>): Promise<T> {
    if (this.recent.size >= MAX_KEPT) this.recent.clear();
    const kept: Kept<T> = { at: this.now(), read };
    this.recent.set(key, kept);
    read.then(
      (answer) => (kept.group = this.groupOf(answer)),
      () => {
        if (this.recent.get(key) === kept) this.recent.delete(key);
      },
    );
    return read;
  }

  /** The answer of `key` changed. */
  forget(key: string): void {
    this.recent.delete(key);
  }

  /** Every answer of the group may have changed. */
  forgetGroup(group: string): void {
    for (const [key, kept] of this.recent) if (kept.group === undefined || kept.group === group) this.recent.delete(key);
  }
}
