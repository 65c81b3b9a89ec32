import { Command, Option } from 'commander';
import { CliError, ExitCode } from '../exit-codes';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** A command of the program tree, by its path of names (`requests approve`). */
interface Node {
  path: string[];
  command: Command;
}

/** Registers `completion <shell>`: the script completes every command, subcommand and option of this program. */
export function registerCompletion(root: Command): void {
  root
    .command('completion')
    .argument('<shell>', SHELLS.join(', '))
    .description('print a shell completion script')
    .addHelpText(
      'after',
      `
Examples:
  source <(latchkey completion bash)                                # in ~/.bashrc
  source <(latchkey completion zsh)                                 # in ~/.zshrc
  latchkey completion fish > ~/.config/fish/completions/latchkey.fish`,
    )
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new CliError(`shell must be one of ${SHELLS.join(', ')}, got "${shell}"`, ExitCode.Usage);
      process.stdout.write(completionScript(root, shell as Shell));
    });
}

export function completionScript(root: Command, shell: Shell): string {
  const nodes = walk(root, []);
  return shell === 'fish' ? fish(nodes) : bash(root, nodes, shell === 'zsh');
}

function walk(command: Command, path: string[]): Node[] {
  return [{ path, command }, ...command.commands.flatMap((c) => walk(c, [...path, c.name()]))];
}

const flagsOf = (options: readonly Option[]): string[] => options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
/** A command's own options, and the program's global ones (but --version) on its subcommands. */
const optionsOf = (root: Command, node: Node): Option[] => [
  ...node.command.options,
  ...(node.path.length > 0 ? root.options.filter((o) => o.long !== '--version') : []),
];
/** Options whose value is a path: complete file names. */
const takesPath = (o: Option) => /<(path|file)>/.test(o.flags);
/** Words that are not shell-special: every name and flag of the program is one. */
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

function bash(root: Command, nodes: Node[], zsh: boolean): string {
  const words = nodes.map((node) => {
    const subcommands = node.command.commands.map((c) => c.name());
    const all = [...subcommands, ...flagsOf(optionsOf(root, node)), '--help'];
    return `    ${quote(node.path.join(' '))}) echo ${quote(all.join(' '))} ;;`;
  });
  const valued = new Map<string, string>();
  for (const node of nodes) {
    for (const o of optionsOf(root, node)) {
      if (!o.required && !o.optional) continue;
      const value = o.argChoices ? `W:${o.argChoices.join(' ')}` : takesPath(o) ? 'F' : 'N';
      for (const flag of flagsOf([o])) valued.set(flag, value);
    }
  }
  const values = [...valued].map(([flag, value]) => `    ${quote(flag)}) echo ${quote(value)} ;;`);
  return `${zsh ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}# latchkey completion for ${zsh ? 'zsh (through bashcompinit)' : 'bash'}: source <(latchkey completion ${zsh ? 'zsh' : 'bash'})
_latchkey_words() {
  case "$1" in
${words.join('\n')}
  esac
}
_latchkey_option_value() {
  case "$1" in
${values.join('\n')}
  esac
}
_latchkey() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" i w next value
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    next="\${path:+$path }$w"
    [[ -n "$(_latchkey_words "$next")" ]] && path="$next"
  done
  value="$(_latchkey_option_value "$prev")"
  case "$value" in
    W:*) COMPREPLY=($(compgen -W "\${value#W:}" -- "$cur")); return ;;
    F) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    N) COMPREPLY=(); return ;;
  esac
  if [[ "$path" == completion ]]; then COMPREPLY=($(compgen -W ${quote(SHELLS.join(' '))} -- "$cur")); return; fi
  COMPREPLY=($(compgen -W "$(_latchkey_words "$path")" -- "$cur"))
}
complete -o default -F _latchkey latchkey
`;
}

function fish(nodes: Node[]): string {
  const lines = [
    '# latchkey completion for fish: latchkey completion fish > ~/.config/fish/completions/latchkey.fish',
    'complete -c latchkey -f',
    "complete -c latchkey -s h -l help -d 'display help for command'",
  ];
  const esc = (text: string) => text.replace(/'/g, "\\'");
  for (const node of nodes) {
    // Where this node's words apply: after its path, and before any of its subcommands.
    const after = node.path.length === 0 ? '__fish_use_subcommand' : node.path.map((name) => `__fish_seen_subcommand_from ${name}`).join('; and ');
    const subcommands = node.command.commands.map((c) => c.name());
    const condition = subcommands.length > 0 && node.path.length > 0 ? `${after}; and not __fish_seen_subcommand_from ${subcommands.join(' ')}` : after;
    for (const sub of node.command.commands) lines.push(`complete -c latchkey -n '${condition}' -a ${sub.name()} -d '${esc(sub.description())}'`);
    for (const o of node.command.options) {
      const flags = [o.long ? `-l ${o.long.replace(/^--/, '')}` : '', o.short ? `-s ${o.short.replace(/^-/, '')}` : ''].filter(Boolean).join(' ');
      const value = o.argChoices ? ` -x -a '${o.argChoices.join(' ')}'` : o.required || o.optional ? (takesPath(o) ? ' -r -F' : ' -x') : '';
      // The program's options hold on every subcommand too, but --version, which is the program's alone.
      const where = node.path.length > 0 || o.long === '--version' ? after : 'true';
      lines.push(`complete -c latchkey -n '${where}' ${flags}${value} -d '${esc(o.description)}'`);
    }
    if (node.path.join(' ') === 'completion') lines.push(`complete -c latchkey -n '${after}' -a '${SHELLS.join(' ')}'`);
  }
  return `${lines.join('\n')}\n`;
}
