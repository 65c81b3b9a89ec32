import { Command, CommanderError, Option } from 'commander';
import { createRequest, decide, extend, listRequestable, listRequests, showRequest } from './commands/access';
import { registerConfigCommands } from './commands/apply';
import { registerCompletion } from './commands/completion';
import { connect } from './commands/connect';
import { login, whoami } from './commands/session';
import { Context, type GlobalOptions } from './context';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-codes';
import { Output } from './output';
import { VERSION } from './version';

/** Builds the `latchkey` program; `run` sets the exit code from what the command answered. */
export function program(): Command {
  const root = new Command('latchkey')
    .description('Just-in-time access to PostgreSQL: request, approve, connect.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('-o, --output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
    .option('-p, --profile <name>', 'stored profile to use (see `latchkey login --profile`)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Environment:
  LATCHKEY_URL, LATCHKEY_TOKEN  override the stored profile's server and token
  XDG_CONFIG_HOME               profiles live in $XDG_CONFIG_HOME/latchkey/config.json (0600)
  LATCHKEY_PSQL                 the psql to start (default: psql on PATH)
  NO_COLOR                      no colours (there are none when output is not a terminal)

Examples:
  latchkey login https://latchkey.example.com
  latchkey requestable sales
  latchkey request shop/sales/orders --permission READ_ONLY --duration 2h --reason "INC-42"
  latchkey connect shop/sales/orders -- -c 'select count(*) from sales.orders'
  latchkey requests list --to-approve
  latchkey plan -f latchkey.yaml && latchkey apply -f latchkey.yaml
${EXIT_CODES_HELP}`,
    );

  const ctx = () => new Context(root.opts<GlobalOptions>());

  root
    .command('login')
    .argument('[url]', 'the Latchkey server, e.g. http://localhost:8080')
    .description('sign in through the browser (single sign-on or password), or with an API token, and store it with the server URL as a profile')
    .option('--token <token>', 'API token instead of the browser (prefer LATCHKEY_TOKEN or --with-token: arguments show in `ps`)')
    .option('--with-token', 'API token instead of the browser: asked for (hidden) on a terminal, read from stdin otherwise')
    .option('--no-browser', 'print the sign-in address without trying to open a browser')
    .option('--timeout <duration>', 'how long to wait for the browser', '5m')
    .addHelpText(
      'after',
      '\nThe browser sign-in makes a token of your own for 30 days (revocable with the others under Tokens); it reaches\nthe CLI through a listener on 127.0.0.1, sealed to a key only this command holds.\n\nExamples:\n  latchkey login http://localhost:8080            # opens the browser\n  latchkey login https://latchkey.example.com --no-browser --profile prod\n  LATCHKEY_TOKEN=lk_... latchkey login https://latchkey.example.com\n  latchkey login https://latchkey.example.com --with-token < token.txt',
    )
    .action((url: string | undefined, options) => login(ctx(), url, { ...options, profile: root.opts<GlobalOptions>().profile }));

  root
    .command('whoami')
    .description('who the stored token belongs to')
    .addHelpText('after', '\nExamples:\n  latchkey whoami\n  latchkey whoami --output json')
    .action(() => whoami(ctx()));

  root
    .command('requestable')
    .argument('[query]', 'part of a resource path to look for')
    .description('what you may request, with who approves and for how long')
    .addHelpText('after', '\nExamples:\n  latchkey requestable\n  latchkey requestable sales/orders --output json')
    .action((q: string | undefined) => listRequestable(ctx(), q));

  const requestOptions = (command: Command) =>
    command
      .option('--permission <permission>', 'READ_ONLY, READ_WRITE, ADMIN or MEMBER (default: the only one offered)')
      .option('--duration <duration>', 'how long, e.g. 30m, 2h, 1h30m', '1h')
      .option('--reason <text>', 'justification, for the approvers and the audit log')
      .option('--timeout <duration>', 'how long to wait for approval', '15m');

  requestOptions(
    root
      .command('request')
      .argument('<resource...>', 'resource paths (db/schema/table) or resource ids')
      .description('request access: a dry run first (who approves, or why not), then the request')
      .option('--wait', 'wait until granted (default)', true)
      .option('--no-wait', 'return once the request is made'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  latchkey request shop/sales/orders --permission READ_ONLY --duration 2h --reason "INC-42"\n  latchkey request shop/sales shop/hr --duration 30m --no-wait --output json',
    )
    .action(async (resources: string[], options) => {
      await createRequest(ctx(), resources, options);
    });

  const requests = root.command('requests').description('list, show and act on access requests');
  requests
    .command('list', { isDefault: true })
    .description('requests you can see (yours; all of them for admins)')
    .option('--status <status>', 'PENDING, GRANTED, ...')
    .option('--mine', 'only my own requests')
    .option('--to-approve', 'only requests waiting for my approval')
    .addHelpText('after', '\nExamples:\n  latchkey requests list --to-approve\n  latchkey requests list --mine --status GRANTED --output json')
    .action((options) => listRequests(ctx(), options));
  requests
    .command('show')
    .argument('<id>', 'request id')
    .description('one request: status, approvers, decisions')
    .addHelpText('after', '\nExample:\n  latchkey requests show 6f1c...')
    .action((id: string) => showRequest(ctx(), id));
  for (const [verb, what] of [
    ['approve', 'approve a request waiting for you'],
    ['reject', 'reject a request waiting for you'],
    ['revoke', 'end a granted request now (its sessions are closed)'],
  ] as const) {
    requests
      .command(verb)
      .argument('<id>', 'request id')
      .description(what)
      .option('--reason <text>', 'why (some flows require it)')
      .addHelpText('after', `\nExample:\n  latchkey requests ${verb} 6f1c... --reason "ticket INC-42"`)
      .action((id: string, options: { reason?: string }) => decide(ctx(), id, verb, options.reason));
  }
  requests
    .command('extend')
    .argument('<id>', 'request id')
    .description('extend a granted request (within the flow limits)')
    .requiredOption('--duration <duration>', 'how much longer, e.g. 30m')
    .addHelpText('after', '\nExample:\n  latchkey requests extend 6f1c... --duration 30m')
    .action((id: string, options: { duration: string }) => extend(ctx(), id, options.duration));

  requestOptions(
    root
      .command('connect')
      .argument('<target>', 'a resource path or id (requested when needed), or a request id')
      .argument('[psql-args...]', 'arguments for psql, after --')
      .description('start psql with your one-time credentials (requesting and waiting when needed)')
      .option('--reset', 'reset the password if it was already shown')
      .option('--print', 'print the connection details (with the password) instead of starting psql'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  latchkey connect shop/sales/orders --reason "INC-42"\n  latchkey connect 6f1c... -- -c "select 1"\n  latchkey connect 6f1c... --print --output json',
    )
    .action(async (target: string, psqlArgs: string[], options) => {
      process.exitCode = await connect(ctx(), target, psqlArgs, options);
    });

  registerConfigCommands(root, ctx);
  registerCompletion(root);
  return root;
}

export async function run(argv: string[]): Promise<number> {
  const root = program();
  root.exitOverride();
  root.configureOutput({ outputError: (text, write) => write(text) });
  for (const command of root.commands.flatMap((c) => [c, ...c.commands])) command.exitOverride();
  try {
    await root.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    const out = new Output(root.opts<GlobalOptions>().output ?? 'text');
    if (err instanceof CliError) {
      if (out.json) process.stdout.write(`${JSON.stringify({ error: { message: err.message, exitCode: err.exitCode, details: err.details } }, null, 2)}\n`);
      out.error(err.message);
      return err.exitCode;
    }
    out.error((err as Error).stack ?? String(err));
    return ExitCode.Failure;
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}
