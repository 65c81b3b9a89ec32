import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@latchkey/testing';

jest.setTimeout(600_000);

/** The CLI as a package: `npm pack`, a global install into an empty prefix, `latchkey --version`. */
describe('latchkey as an npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-cli-pack-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('installs from its tarball with only Node and answers --version, --help and schema', () => {
    const tarball = execFileSync(process.execPath, [join(REPO_ROOT, 'tools/pack-cli.mjs'), work], { encoding: 'utf8' }).trim();
    const prefix = join(work, 'prefix');
    execFileSync('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, tarball], { encoding: 'utf8', cwd: work });
    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: work };
    const version = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;
    expect(execFileSync('latchkey', ['--version'], { encoding: 'utf8', env, cwd: work })).toBe(`${version}\n`);
    expect(execFileSync('latchkey', ['connect', '--help'], { encoding: 'utf8', env, cwd: work })).toContain('Examples:');
    // plan/apply check files with the contracts' schemas at run time: they ship in the tarball.
    expect(JSON.parse(execFileSync('latchkey', ['schema'], { encoding: 'utf8', env, cwd: work })).properties.apiVersion).toEqual({
      type: 'string',
      const: 'latchkey/v1',
    });
  });
});
