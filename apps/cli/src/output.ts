import { spinner as clackSpinner } from '@clack/prompts';

export type OutputFormat = 'text' | 'json';

/**
 * What the CLI prints: results on stdout (text or `--output json`), messages for people on
 * stderr. Colours only on a terminal, and never with NO_COLOR.
 */
export class Output {
  readonly colour: boolean;
  readonly interactive: boolean;

  constructor(
    readonly format: OutputFormat,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {
    this.colour = Boolean(err.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
    this.interactive = Boolean(process.stdin.isTTY && err.isTTY) && format === 'text';
  }

  get json(): boolean {
    return this.format === 'json';
  }

  /** A command's result: JSON as is, or the text rendering. */
  result(value: unknown, text: () => string): void {
    if (this.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`);
    else {
      const rendered = text();
      if (rendered) this.out.write(rendered.endsWith('\n') ? rendered : `${rendered}\n`);
    }
  }

  /** A message for people, on stderr (so that stdout stays parseable). */
  info(message: string): void {
    this.err.write(`${message}\n`);
  }

  warn(message: string): void {
    this.err.write(`${this.paint('33', 'warning:')} ${message}\n`);
  }

  error(message: string): void {
    this.err.write(`${this.paint('31', 'error:')} ${message}\n`);
  }

  bold(text: string): string {
    return this.paint('1', text);
  }

  dim(text: string): string {
    return this.paint('2', text);
  }

  private paint(code: string, text: string): string {
    return this.colour ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  /** A spinner on a terminal; plain lines on stderr otherwise (one per change of message, also with --output json). */
  progress(initial: string): { update(message: string): void; stop(message: string): void } {
    if (this.interactive) {
      const s = clackSpinner();
      s.start(initial);
      return { update: (m) => s.message(m), stop: (m) => s.stop(m) };
    }
    let last = '';
    const say = (m: string) => {
      if (m !== last) this.info(m);
      last = m;
    };
    say(initial);
    return { update: say, stop: say };
  }
}
