import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { isCancel, password, text } from '@clack/prompts';
import { cliKeyCode } from '@latchkey/contracts';
import type { User } from '@latchkey/contracts';
import { ApiClient } from '../api';
import { configPath, DEFAULT_PROFILE, readConfig, writeConfig } from '../config';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { parseDuration } from '../format';
import { newSignInKey, openSealed } from '../sign-in-key';

export interface LoginOptions {
  token?: string;
  /** Ask for the token (hidden) on a terminal, or read it from stdin, instead of signing in through the browser. */
  withToken?: boolean;
  /** False (`--no-browser`): print the sign-in URL and do not try to open a browser. */
  browser?: boolean;
  /** How long to wait for the browser (`--timeout`, e.g. 5m). */
  timeout?: string;
  profile?: string;
}

/** How long `latchkey login` waits for the person to allow it in the browser, unless --timeout says otherwise. */
const BROWSER_SIGN_IN_TIMEOUT = '5m';

/**
 * Stores a server and a token as a profile (0600), after checking them with GET /api/v1/me. By
 * default the token comes from the browser (single sign-on or password, as the console offers):
 * see `browserSignIn`. `--token`, LATCHKEY_TOKEN or `--with-token` (hidden prompt, or stdin) give
 * an API token instead, for scripts; arguments show in `ps` and shell history, so prefer the others.
 */
export async function login(ctx: Context, urlArg: string | undefined, options: LoginOptions): Promise<void> {
  let url = urlArg ?? process.env.LATCHKEY_URL;
  if (!url && ctx.out.interactive) url = answer(await text({ message: 'Latchkey URL', placeholder: 'http://localhost:8080' }));
  if (!url) throw new CliError('give the server URL: latchkey login URL', ExitCode.Usage);
  url = url.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw new CliError(`the URL must start with http:// or https://, got "${url}"`, ExitCode.Usage);
  let token = options.token ?? process.env.LATCHKEY_TOKEN;
  if (!token && options.withToken) token = ctx.out.interactive ? answer(await password({ message: 'API token' })) : await readStdin();
  if (!token) token = await browserSignIn(ctx, url, options);

  const me = await new ApiClient(url, token).get<User>('/api/v1/me');
  const name = options.profile ?? ctx.options.profile ?? DEFAULT_PROFILE;
  const config = readConfig();
  config.profiles[name] = { url, token };
  config.currentProfile = name;
  writeConfig(config);
  ctx.out.result(
    { profile: name, url, user: { id: me.id, email: me.email, role: me.role } },
    () => `Signed in to ${url} as ${me.email} (profile ${name}, saved in ${configPath()})`,
  );
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const token = text.trim();
  if (!token) throw new CliError('--with-token: no token on stdin', ExitCode.Usage);
  return token;
}

/** The computer's name as the token's name may hold it. */
const hostName = (): string =>
  hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64) || 'this-computer';

/**
 * Signs in through the browser, as `gh auth login --web` or `tsh login` do: a one-time X25519 key
 * pair and a listener on 127.0.0.1 (a free port); the console's `/portal/cli-sign-in` page, once the
 * person is signed in there (single sign-on or password) and allows it, asks the server for a new
 * token sealed to our public key and sends the browser to our listener with it. Only this process
 * can open it; a `state` ties the answer to this login. The URL is printed in any case (on another
 * computer's browser it cannot reach the listener: forward the port, or use --with-token).
 */
async function browserSignIn(ctx: Context, url: string, options: LoginOptions): Promise<string> {
  const timeoutMinutes = parseDuration(options.timeout ?? BROWSER_SIGN_IN_TIMEOUT);
  if (timeoutMinutes === null) throw new CliError(`--timeout: must be a duration such as 90s, 5m or 1h, got "${options.timeout}"`, ExitCode.Usage);
  const key = newSignInKey();
  const state = randomBytes(24).toString('base64url');
  const server = createServer();
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(0, '127.0.0.1', () => listening());
  });
  const { port } = server.address() as AddressInfo;
  try {
    const answer = new Promise<string>((signedIn, refused) => {
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const at = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (req.method !== 'GET' || at.pathname !== '/callback') return page(res, 404, 'Not found', 'This is the Latchkey CLI waiting for its sign-in.');
        // Anything without this login's state is not for us (another tab, a stale link): keep waiting.
        if (at.searchParams.get('state') !== state)
          return page(res, 400, 'Not this sign-in', 'This answer belongs to another `latchkey login`. Use the newest link the terminal printed.');
        if (at.searchParams.get('error')) {
          page(res, 200, 'Sign-in cancelled', 'The Latchkey CLI was not signed in. You can close this tab.');
          return refused(new CliError('the sign-in was denied in the browser; nothing was stored', ExitCode.Unauthenticated));
        }
        const token = openSealed(key, at.searchParams.get('sealed') ?? '');
        if (!token) {
          page(res, 400, 'Sign-in failed', 'The answer could not be opened by this CLI. Run `latchkey login` again.');
          return refused(
            new CliError(
              'the browser brought an answer this CLI cannot open (changed, or sealed to another key); run latchkey login again',
              ExitCode.Unauthenticated,
            ),
          );
        }
        page(res, 200, 'Signed in', 'The Latchkey CLI is signed in. You can close this tab and return to the terminal.');
        signedIn(token);
      });
    });
    const signInUrl = `${url}/portal/cli-sign-in?${new URLSearchParams({ port: String(port), key: key.publicKey, state, host: hostName() })}`;
    ctx.out.info(`Sign in in your browser and allow the CLI there; check that the page shows the code ${ctx.out.bold(cliKeyCode(key.publicKey))}.`);
    ctx.out.info(`  ${signInUrl}`);
    if (options.browser !== false && !openBrowser(signInUrl)) ctx.out.info('(no browser could be started here: open the address above on this computer)');
    const progress = ctx.out.progress('Waiting for the browser...');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, late) => {
      timer = setTimeout(
        () =>
          late(
            new CliError(
              `no answer from the browser within ${options.timeout ?? BROWSER_SIGN_IN_TIMEOUT}; nothing was stored. Run latchkey login again`,
              ExitCode.TimedOut,
            ),
          ),
        timeoutMinutes * 60_000,
      );
    });
    try {
      const token = await Promise.race([answer, timedOut]);
      progress.stop('Allowed in the browser.');
      return token;
    } catch (err) {
      progress.stop('Not signed in.');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** A small page for the browser tab that brought the answer. */
function page(res: ServerResponse, status: number, title: string, message: string): void {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} - Latchkey CLI</title></head><body><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>`,
  );
}

/** Starts the person's browser on `url` ($BROWSER, else the desktop's opener); false when there is none. */
function openBrowser(url: string): boolean {
  const command = process.env.BROWSER || (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return child.pid !== undefined;
  } catch {
    return false;
  }
}

function answer(value: string | symbol): string {
  if (isCancel(value) || typeof value !== 'string') throw new CliError('cancelled', ExitCode.Usage);
  return value;
}

export async function whoami(ctx: Context): Promise<void> {
  const api = ctx.api();
  const me = await api.get<User & { groups?: string[] }>('/api/v1/me');
  ctx.out.result(
    { ...me, url: api.url },
    () => `${me.email} (${me.name}, ${me.role}) on ${api.url}${me.groups?.length ? `\ngroups: ${me.groups.join(', ')}` : ''}`,
  );
}
