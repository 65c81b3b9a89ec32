/** Percentile of a sample (nearest rank); figures in a bench report. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;

/** Runs `task` over `items` with at most `concurrency` at a time; `worker` is 0..concurrency-1. */
export async function pool<T, R>(items: T[], concurrency: number, task: (item: T, index: number, worker: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async (_, worker) => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i], i, worker);
      }
    }),
  );
  return results;
}
