import { performance } from 'node:perf_hooks';
import type { AppLogger } from './logger';

const MB = 1024 * 1024;

/** What one check reads of the process: resident memory, and how busy the event loop was since the last check (0-1). */
export interface MemoryReading {
  rss: number;
  loopUtilization: number;
}

export interface MemoryReleasePolicy {
  /** Resident memory grown by this much since the last release (or its lowest since the start) is worth a release. */
  releaseAboveBytes: number;
  /**
   * Released only when the event loop was at most this busy since the last check: in a burst the
   * pages would fill again at once, and a release stops the process for 70-250 ms. A service at
   * rest measures 0.001-0.002, one answering a request at a time 0.15-0.45.
   */
  idleUtilization: number;
  /** How often the process checks. */
  intervalMs: number;
}

export const MEMORY_RELEASE_POLICY: MemoryReleasePolicy = { releaseAboveBytes: 16 * MB, idleUtilization: 0.05, intervalMs: 5_000 };

/**
 * When a process gives memory back. Node 24's V8 keeps the pages its collections free in a pool,
 * resident, and returns them to the system only on a memory-reducing ("last resort") collection,
 * which it never runs by itself while the process lives: after 10,000 grants and their revocations
 * provisioning held 200-270 MB of RSS around 50 MB of live objects, where Node 20 gave the pages
 * back. `--optimize-for-size` makes every collection memory-reducing, at 70% more of
 * provisioning's CPU through a revocation storm.
 *
 * Resident memory is read at each check. The first check that finds the event loop idle releases
 * what starting left behind (loading and compiling the modules: 19-29 MB per service). After that a
 * release is due when RSS has grown by `releaseAboveBytes` above its floor (its lowest reading, or
 * what the last release left) and the event loop was idle since the last check. What the process
 * holds after a release is the new floor, so memory a release cannot return (live objects, native
 * memory) causes no other release until it grows again.
 */
export class MemoryReleaseDecision {
  private floor: number | undefined;

  constructor(private readonly policy: Pick<MemoryReleasePolicy, 'releaseAboveBytes' | 'idleUtilization'> = MEMORY_RELEASE_POLICY) {}

  shouldRelease(reading: MemoryReading): boolean {
    const idle = reading.loopUtilization <= this.policy.idleUtilization;
    if (this.floor === undefined) return idle;
    if (reading.rss < this.floor) {
      this.floor = reading.rss;
      return false;
    }
    return idle && reading.rss - this.floor >= this.policy.releaseAboveBytes;
  }

  released(rssAfter: number): void {
    this.floor = rssAfter;
  }
}

export interface MemoryRelease {
  /** One check, and the release it decides; what it released (null when none was due). */
  check(): Promise<{ rssBeforeMb: number; rssAfterMb: number } | null>;
  stop(): void;
}

/**
 * Checks every `intervalMs` and, when due, runs a memory-reducing collection, which also returns
 * V8's pooled pages. Needs `gc`, which `--expose-gc` gives (SERVICE_NODE_FLAGS); without it the
 * process keeps its pages, as before, and says so once at debug level.
 */
export function startMemoryRelease(
  logger: AppLogger,
  policy: MemoryReleasePolicy = MEMORY_RELEASE_POLICY,
  collect: NodeJS.GCFunction | null = globalThis.gc ?? null,
): MemoryRelease {
  if (!collect) {
    logger.debug('memory release off: the process runs without --expose-gc');
    return { check: async () => null, stop: () => undefined };
  }
  const decision = new MemoryReleaseDecision(policy);
  let loopBefore = performance.eventLoopUtilization();
  let running: Promise<{ rssBeforeMb: number; rssAfterMb: number } | null> | undefined;
  const mb = (bytes: number) => Math.round(bytes / MB);
  const release = async () => {
    const loopNow = performance.eventLoopUtilization();
    const loopUtilization = performance.eventLoopUtilization(loopNow, loopBefore).utilization;
    loopBefore = loopNow;
    const before = process.memoryUsage.rss();
    if (!decision.shouldRelease({ rss: before, loopUtilization })) return null;
    await collect({ type: 'major', execution: 'async', flavor: 'last-resort' });
    const after = process.memoryUsage();
    decision.released(after.rss);
    const result = { rssBeforeMb: mb(before), rssAfterMb: mb(after.rss) };
    logger.info({ ...result, heapUsedMb: mb(after.heapUsed) }, 'memory released');
    return result;
  };
  const check = () => (running ??= release().finally(() => (running = undefined)));
  const timer = setInterval(() => {
    check().catch((err: unknown) => logger.warn({ err }, 'memory release failed'));
  }, policy.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
