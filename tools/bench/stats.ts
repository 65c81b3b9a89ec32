import { resolve } from 'node:path';
import { REPO_ROOT } from '@latchkey/testing';
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

/**
 * Environment for a bench stack's services: with BENCH_PROFILE_DIR set, each service writes a CPU
 * profile (`<pid>-<service>.cpuprofile`, for Chrome DevTools or speedscope) there when it exits.
 */
export function benchServiceEnv(env: Record<string, string>): Record<string, string> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return env;
  return { ...env, BENCH_PROFILE_DIR: resolve(dir), NODE_OPTIONS: `--require ${resolve(REPO_ROOT, 'tools/bench/cpu-profile.cjs')}` };
}
