import type { AppLogger } from './logger';
import { MemoryReleaseDecision, startMemoryRelease } from './memory-release';

const MB = 1024 * 1024;
const policy = { releaseAboveBytes: 32 * MB, idleUtilization: 0.25 };

describe('MemoryReleaseDecision', () => {
  it('takes the first reading as the floor', () => {
    const decision = new MemoryReleaseDecision(policy);
    expect(decision.shouldRelease({ rss: 300 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 300 * MB, loopUtilization: 0 })).toBe(false);
  });

  it('releases once resident memory grew by the threshold, and only while the event loop is idle', () => {
    const decision = new MemoryReleaseDecision(policy);
    decision.shouldRelease({ rss: 150 * MB, loopUtilization: 0 });
    expect(decision.shouldRelease({ rss: 181 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 250 * MB, loopUtilization: 0.9 })).toBe(false);
    expect(decision.shouldRelease({ rss: 250 * MB, loopUtilization: 0.25 })).toBe(true);
  });

  it('takes what a release left as the new floor, so memory it cannot return causes no other', () => {
    const decision = new MemoryReleaseDecision(policy);
    decision.shouldRelease({ rss: 150 * MB, loopUtilization: 0 });
    expect(decision.shouldRelease({ rss: 260 * MB, loopUtilization: 0 })).toBe(true);
    decision.released(240 * MB);
    expect(decision.shouldRelease({ rss: 250 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 260 * MB, loopUtilization: 0 })).toBe(false);
    expect(decision.shouldRelease({ rss: 275 * MB, loopUtilization: 0 })).toBe(true);
  });

  it('follows the floor down when the process holds less than before', () => {
    const decision = new MemoryReleaseDecision(policy);
    decision.shouldRelease({ rss: 200 * MB, loopUtilization: 0 });
    decision.shouldRelease({ rss: 150 * MB, loopUtilization: 0 });
    expect(decision.shouldRelease({ rss: 185 * MB, loopUtilization: 0 })).toBe(true);
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

  it('asks for a memory-reducing collection only when one is due', async () => {
    const calls: unknown[] = [];
    const collect = ((options: unknown) => {
      calls.push(options);
      return Promise.resolve();
    }) as NodeJS.GCFunction;
    // A threshold no process reaches: the first check sets the floor, the second finds nothing due.
    const never = startMemoryRelease(logger, { releaseAboveBytes: 1024 * 1024 * MB, idleUtilization: 1, intervalMs: 60_000 }, collect);
    expect(await never.check()).toBeNull();
    expect(await never.check()).toBeNull();
    never.stop();
    expect(calls).toEqual([]);
  });
});
