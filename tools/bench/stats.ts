import { resolve } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
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
 * profile (`<pid>-<service>.cpuprofile`, for Chrome DevTools or speedscope) there when it exits,
 * and its memory every 5 s (`<pid>-<service>.memory.log`: RSS, V8 heap used and total);
 * BENCH_PROFILE_SERVICES=access,api-gateway limits that to those services. BENCH_NODE_OPTIONS
 * passes Node options (V8 flags, say `--max-old-space-size=128`) to every service.
 */
export function benchServiceEnv(env: Record<string, string>): Record<string, string> {
  const dir = process.env.BENCH_PROFILE_DIR;
  const extra = process.env.BENCH_NODE_OPTIONS ?? '';
  if (!dir) return extra ? { ...env, NODE_OPTIONS: extra } : env;
  const only = process.env.BENCH_PROFILE_SERVICES;
  return {
    ...env,
    BENCH_PROFILE_DIR: resolve(dir),
    ...(only ? { BENCH_PROFILE_SERVICES: only } : {}),
    NODE_OPTIONS: `--require ${resolve(REPO_ROOT, 'tools/bench/cpu-profile.cjs')} ${extra}`,
  };
}

/** Resident memory of each service this bench started (its child processes), from /proc: now and the peak so far. */
export function serviceMemory(): Array<{ service: string; rssMb: number; peakMb: number }> {
  const out: Array<{ service: string; rssMb: number; peakMb: number }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== process.pid) continue;
      const service = /dist\/apps\/([^/]+)\//.exec(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))?.[1];
      if (!service) continue;
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
      out.push({ service, rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 });
    } catch {
      // The process ended meanwhile.
    }
  }
  return out.sort((a, b) => a.service.localeCompare(b.service));
}

/** `access 80 MB, api-gateway 70 MB, ...` from serviceMemory, by `pick`. */
export function memoryLine(pick: 'rssMb' | 'peakMb'): string {
  return serviceMemory()
    .map((m) => `${m.service} ${m[pick].toFixed(0)} MB`)
    .join(', ');
}

/** CPU seconds used so far by every process on the machine, by pid, with the part of the stack it belongs to. */
export function cpuSnapshot(): Map<number, { group: string; seconds: number }> {
  const out = new Map<number, { group: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command's closing parenthesis: state is the 3rd field, utime and stime the 14th and 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      const group = groupOf(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
      if (group) out.set(Number(entry), { group, seconds });
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

function groupOf(pid: number, cmdline: string): string | undefined {
  if (pid === process.pid) return 'bench client';
  const service = /dist\/apps\/([^/]+)\//.exec(cmdline)?.[1];
  if (service) return service;
  // A backend's title is "postgres: [cluster: ]user database address": the bench's target database is `bench`.
  const backend = /^postgres: (?:[^:\s]+: )?(\S+) (\S+) (?:\d|\[local\])/.exec(cmdline);
  if (backend) return backend[2] === 'bench' ? 'target PostgreSQL' : 'control PostgreSQL';
  if (cmdline.startsWith('postgres')) return 'PostgreSQL background';
  if (/redis-server/.test(cmdline)) return 'Redis';
  if (/nats-server/.test(cmdline)) return 'NATS';
  return undefined;
}

/** `access 6.8 s, control PostgreSQL 4.6 s, ...`: CPU used between two snapshots, by part, most first. */
export function cpuLine(before: Map<number, { group: string; seconds: number }>, after: Map<number, { group: string; seconds: number }>): string {
  const used = new Map<string, number>();
  for (const [pid, { group, seconds }] of after) used.set(group, (used.get(group) ?? 0) + seconds - (before.get(pid)?.seconds ?? 0));
  const total = [...used.values()].reduce((a, b) => a + b, 0);
  return (
    `${total.toFixed(1)} s: ` +
    [...used.entries()]
      .filter(([, s]) => s >= 0.05)
      .sort((a, b) => b[1] - a[1])
      .map(([g, s]) => `${g} ${s.toFixed(1)} s`)
      .join(', ')
  );
}
