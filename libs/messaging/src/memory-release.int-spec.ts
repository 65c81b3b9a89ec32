import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AppLogger } from './logger';
import { startMemoryRelease } from './memory-release';

const MB = 1024 * 1024;

/** This process's real gc(), as `--expose-gc` gives it to a service (a context made after the flag is set has it). */
function exposedGc(): NodeJS.GCFunction {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as NodeJS.GCFunction;
}

describe('startMemoryRelease on this Node', () => {
  it('gives back the pages a burst left resident once its objects are collected', async () => {
    const gc = exposedGc();
    const logged: Array<Record<string, unknown>> = [];
    const logger = { debug: () => undefined, info: (fields: Record<string, unknown>) => logged.push(fields), warn: () => undefined } as unknown as AppLogger;
    // Idle or not: this test's own allocation keeps the event loop busy.
    const release = startMemoryRelease(logger, { releaseAboveBytes: 32 * MB, idleUtilization: 1, intervalMs: 3_600_000 }, gc);
    try {
      // What starting (here: the test run so far) left.
      expect(await release.check()).not.toBeNull();
      // A burst: about 250 MB of small objects, alive together, then dropped and collected as usual.
      let burst: Array<{ n: number; s: string; a: number[] }> | null = [];
      for (let i = 0; i < 1_500_000; i += 1) burst.push({ n: i, s: `item ${i}`, a: [i] });
      expect(burst.length).toBe(1_500_000);
      burst = null;
      gc();
      const released = await release.check();
      expect(released).not.toBeNull();
      // The collection alone left the pages resident; the release gave most of them back.
      expect(released!.rssBeforeMb - released!.rssAfterMb).toBeGreaterThan(100);
      expect(logged[1]).toEqual(expect.objectContaining({ rssBeforeMb: released!.rssBeforeMb, rssAfterMb: released!.rssAfterMb }));
      // Nothing more to give back: no second release.
      expect(await release.check()).toBeNull();
    } finally {
      release.stop();
    }
  });
});
