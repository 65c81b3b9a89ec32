import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@latchkey/testing';

const CLI = join(REPO_ROOT, 'dist/apps/cli/src/main.js');

/** bash's own completion machinery on real command lines, with the script `latchkey completion bash` prints. */
describe('latchkey completion', () => {
  const complete = (words: string[]): string[] => {
    const script = `source <("${process.execPath}" "${CLI}" completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_latchkey
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: join(REPO_ROOT, 'apps/cli') });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return run.stdout.split('\n').filter(Boolean);
  };

  it('completes commands, subcommands, options and their values', () => {
    expect(complete(['latchkey', 'pl'])).toEqual(['plan']);
    expect(complete(['latchkey', 'requests', 'ap'])).toEqual(['approve']);
    expect(complete(['latchkey', '--output', 'json', 'requests', 're'])).toEqual(['reject', 'revoke']);
    expect(complete(['latchkey', 'apply', '--p'])).toEqual(['--prune', '--profile']);
    expect(complete(['latchkey', 'plan', '--output', ''])).toEqual(['text', 'json']);
    expect(complete(['latchkey', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    // A file option completes file names.
    expect(complete(['latchkey', 'apply', '-f', 'package.j'])).toEqual(['package.json']);
    // An option's value is not taken for a command.
    expect(complete(['latchkey', 'requests', 'approve', '--reason', 'x', '--'])).toEqual(expect.arrayContaining(['--reason', '--output', '--help']));
  });

  it('prints scripts for zsh and fish, and refuses another shell', () => {
    expect(execFileSync(process.execPath, [CLI, 'completion', 'zsh'], { encoding: 'utf8' })).toMatch(/^autoload -U \+X bashcompinit && bashcompinit\n/);
    const fish = execFileSync(process.execPath, [CLI, 'completion', 'fish'], { encoding: 'utf8' });
    expect(fish).toContain("complete -c latchkey -n '__fish_use_subcommand' -a apply -d 'make the server hold what the file says (integrations, access flows)'");
    expect(fish).toContain("complete -c latchkey -n '__fish_seen_subcommand_from requests; and not __fish_seen_subcommand_from list show approve reject revoke extend' -a approve");
    const bad = spawnSync(process.execPath, [CLI, 'completion', 'tcsh'], { encoding: 'utf8' });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('shell must be one of bash, zsh, fish');
  });
});
