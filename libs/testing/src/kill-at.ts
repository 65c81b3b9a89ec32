import { join } from 'node:path';
import { REPO_ROOT } from './test-stack';

/**
 * The environment that makes a service process crash at one step: it preloads the built
 * `faults/kill-at.js` (npm run build), which SIGKILLs the process when `step` is published on the
 * diagnostics channel `channel`.
 */
export function killAt(channel: string, step: string): Record<string, string> {
  return {
    NODE_OPTIONS: `--require ${JSON.stringify(join(REPO_ROOT, 'dist/libs/testing/src/faults/kill-at.js'))}`,
    KILL_AT_CHANNEL: channel,
    KILL_AT_STEP: step,
  };
}
