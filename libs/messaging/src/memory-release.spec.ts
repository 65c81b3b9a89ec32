import type { AppLogger } from './logger';
import { MemoryReleaseDecision, startMemoryRelease } from './memory-release';

const MB = 1024 * 1024;
const policy = { releaseAboveBytes: 16 * MB, idleUtilization: 0.25 };

describe('MemoryReleaseDecision', () => {
  /** A decision past its first release (what starting left), with `rss` as its floor. */
  const started = (rss: number) => {
    const decision = new MemoryReleaseDecision(policy);
    expect(decision.shouldRelease({ rss, loopUtilization: 0 })).toBe(true);
    decision.released(rss);
    return decision;
  };

  it('releases what starting left at the first check that finds the event loop idle', () => {
    const decision = new MemoryReleaseDecision(policy);
    expect(decision.shouldRelease({ rss: 145 * MB, loopUtilization: 0.8 })).toBe(false);
    expect(decision.shouldRelease({ rss: 145 * MB, loopUtilization: 0.1 })).toBe(true);
    decision.released(120 * MB);
    expect(decision.shouldRelease({ rss: 121 * MB, loopUtilization: 0 })).toBe(false);
  });

  it('releases once resident memory grew by the threshold, and only while the event loop is idle', () => {
    const decision = started(150 * MB);
    expect(decision.shouldRelease({ rss: 165 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 250 * MB, loopUtilization: 0.9 })).toBe(false);
    expect(decision.shouldRelease({ rss: 250 * MB, loopUtilization: 0.25 })).toBe(true);
  });

  it('takes what a release left as the new floor, so memory it cannot return causes no other', () => {
    const decision = started(150 * MB);
    expect(decision.shouldRelease({ rss: 260 * MB, loopUtilization: 0 })).toBe(true);
    decision.released(240 * MB);
    expect(decision.shouldRelease({ rss: 250 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 255 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 256 * MB, loopUtilization: 0 })).toBe(true);
  });

  it('follows the floor down when the process holds less than before', () => {
    const decision = started(200 * MB);
    expect(decision.shouldRelease({ rss: 150 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 165 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 166 * MB, loopUtilization: 0 })).toBe(true);
  });
});

describe('startMemoryRelease', () => {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = {
    debug: (msg: string) => lines.push({ level: 'debug', msg }),
    info: (_fields: object, msg: string) => lines.push({ level: 'info', msg }),
    warn: (_fields: object, msg: string) => lines.push({ level: 'warn', msg }),
  } as unknown as AppLogger;

  beforeEach(() => (lines.length = 0));

  it('stays off, and says so, in a process without gc()', async () => {
    const release = startMemoryRelease(logger, { ...policy, intervalMs: 60_000 }, null);
    expect(await release.check()).toBeNull();
    release.stop();
    expect(lines).toEqual([{ level: 'debug', msg: 'memory release off: the process runs without --expose-gc' }]);
  });

  it('asks for a memory-reducing collection at the first idle check, then only when one is due', async () => {
    const calls: unknown[] = [];
    const collect = ((options: unknown) => {
      calls.push(options);
      return Promise.resolve();
    }) as NodeJS.GCFunction;
    // Idle always; a threshold no process reaches: after the first release nothing is due.
    const release = startMemoryRelease(logger, { releaseAboveBytes: 1024 * 1024 * MB, idleUtilization: 1, intervalMs: 60_000 }, collect);
    expect(await release.check()).toEqual({ rssBeforeMb: expect.any(Number), rssAfterMb: expect.any(Number) });
    expect(await release.check()).toBeNull();
    release.stop();
    expect(calls).toEqual([{ type: 'major', execution: 'async', flavor: 'last-resort' }]);
    expect(lines).toEqual([{ level: 'info', msg: 'memory released' }]);
  });
});
