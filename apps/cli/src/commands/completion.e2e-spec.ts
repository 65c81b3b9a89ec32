import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@latchkey/testing';

const CLI = join(REPO_ROOT, 'dist/apps/cli/src/main.js');
/** Where file names are completed from (it has a package.json). */
const CWD = join(REPO_ROOT, 'apps/cli');
const dir = mkdtempSync(join(tmpdir(), 'latchkey-completion-'));

/** The script `latchkey completion <shell>` prints, in a file the shells source. */
const scriptFor = (shell: string): string => {
  const path = join(dir, `latchkey.${shell}`);
  writeFileSync(path, execFileSync(process.execPath, [CLI, 'completion', shell], { encoding: 'utf8' }));
  return path;
};

/** zsh and fish come from Debian's packages: `bash tools/infra.sh check --shells` installs them (npm test does). */
const shell = (name: string, args: string[]) => {
  const run = spawnSync(name, args, { encoding: 'utf8', cwd: CWD, env: { PATH: process.env.PATH!, HOME: dir, TERM: 'dumb' }, timeout: 60_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(`${name} is not installed: run bash tools/infra.sh check --shells`);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout;
};

/**
 * A real interactive zsh in a pseudo-terminal (zsh/zpty) with compinit and the script sourced:
 * each command line is typed and completed by the key bound to Tab's widget (expand-or-complete);
 * compadd is wrapped to record what the completion system actually offers (after zsh's own
 * matching against the typed prefix). Answers one list per line.
 */
const ZSH_HARNESS = `zmodload zsh/zpty || exit 3
script=$1; shift
export LATCHKEY_COMPLETIONS=$(mktemp)
# Input typed before the prompt is lost (the shell resets the terminal as its line editor starts): wait for it.
ready() { zpty -r -m z _ '*READY> ' || exit 4; }
zpty z zsh -f -i
zpty -w z "PS1='READY> '; autoload -U compinit && compinit -u -D; source \${(q)script}"
ready
zpty -w z 'compadd() { local -a added; builtin compadd -O added "$@"; print -rl -- "\${added[@]}" >> "$LATCHKEY_COMPLETIONS"; builtin compadd "$@"; }'
ready
# Tab's widget, then a message to wait for: keys typed while completion runs could cut it short.
zpty -w z '_lk_complete() { zle expand-or-complete; zle -M COMPLETED; }; zle -N _lk_complete; bindkey "^T" _lk_complete'
ready
for line in "$@"; do
  zpty -w z 'print -r -- "<<<" >> "$LATCHKEY_COMPLETIONS"'
  ready
  zpty -w -n z "$line"$'\\C-t'
  zpty -r -m z _ '*COMPLETED*' || exit 5
  zpty -w z $'\\C-u'
  ready
done
zpty -d z
cat "$LATCHKEY_COMPLETIONS"
rm -f "$LATCHKEY_COMPLETIONS"
`;

/** The command lines every shell must complete, and what each offers (in any order). */
const CASES: Array<[string, string[]]> = [
  ['latchkey pl', ['plan']],
  ['latchkey requests ap', ['approve']],
  ['latchkey --output json requests re', ['reject', 'revoke']],
  ['latchkey apply --p', ['--profile', '--prune']],
  ['latchkey plan --output ', ['json', 'text']],
  ['latchkey completion ', ['bash', 'fish', 'zsh']],
  // A file option completes file names.
  ['latchkey apply -f package.j', ['package.json']],
];

describe('latchkey completion', () => {
  it('in bash: completes commands, subcommands, options and their values', () => {
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const script = `source "${scriptFor('bash')}"
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_latchkey
printf '%s\\n' "\${COMPREPLY[@]}"`;
      return shell('bash', ['-c', script]).split('\n').filter(Boolean).sort();
    };
    for (const [line, offered] of CASES) expect([line, complete(line)]).toEqual([line, offered]);
    // An option's value is not taken for a command; --version is the program's alone.
    const afterValue = complete('latchkey requests approve --reason x --');
    expect(afterValue).toEqual(expect.arrayContaining(['--reason', '--output', '--help']));
    expect(afterValue).not.toContain('--version');
  });

  it('in a real interactive zsh (compinit, Tab): completes the same', () => {
    const harness = join(dir, 'complete.zsh');
    writeFileSync(harness, ZSH_HARNESS);
    const lines = [...CASES.map(([line]) => line), 'latchkey requests approve --reason x --'];
    const answers = shell('zsh', ['-f', harness, scriptFor('zsh'), ...lines])
      .split('<<<\n')
      .slice(1)
      .map((block) => block.split('\n').filter(Boolean).sort());
    expect(answers).toHaveLength(lines.length);
    CASES.forEach(([line, offered], i) => expect([line, answers[i]]).toEqual([line, offered]));
    expect(answers[CASES.length]).toEqual(expect.arrayContaining(['--reason', '--output', '--help']));
    expect(answers[CASES.length]).not.toContain('--version');
  });

  it('in fish (complete -C): completes the same, with descriptions', () => {
    const script = scriptFor('fish');
    const complete = (line: string) =>
      shell('fish', ['--no-config', '-c', `source ${script}; complete -C '${line}'`])
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'));
    for (const [line, offered] of CASES)
      expect([
        line,
        complete(line)
          .map(([word]) => word)
          .sort(),
      ]).toEqual([line, offered]);
    expect(complete('latchkey pl')).toEqual([['plan', 'show what apply would change on the server (exit 2 when there are changes)']]);
    const afterValue = complete('latchkey requests approve --reason x --').map(([word]) => word);
    expect(afterValue).toEqual(expect.arrayContaining(['--reason', '--output', '--help']));
    expect(afterValue).not.toContain('--version');
  });

  it('refuses another shell', () => {
    const bad = spawnSync(process.execPath, [CLI, 'completion', 'tcsh'], { encoding: 'utf8' });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('shell must be one of bash, zsh, fish');
  });
});
