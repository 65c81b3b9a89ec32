import { isCancel, password, text } from '@clack/prompts';
import type { User } from '@latchkey/contracts';
import { ApiClient } from '../api';
import { configPath, DEFAULT_PROFILE, readConfig, writeConfig } from '../config';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';

export interface LoginOptions {
  token?: string;
  profile?: string;
}

/**
 * Stores a server and a token as a profile (0600), after checking them with GET /api/v1/me. The
 * token comes from --token, LATCHKEY_TOKEN, or a hidden prompt on a terminal; never from argv
 * alone if avoidable (it would show in `ps` and shell history).
 */
export async function login(ctx: Context, urlArg: string | undefined, options: LoginOptions): Promise<void> {
  let url = urlArg ?? process.env.LATCHKEY_URL;
  if (!url && ctx.out.interactive) url = answer(await text({ message: 'Latchkey URL', placeholder: 'http://localhost:8080' }));
  if (!url) throw new CliError('give the server URL: latchkey login URL', ExitCode.Usage);
  url = url.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw new CliError(`the URL must start with http:// or https://, got "${url}"`, ExitCode.Usage);
  let token = options.token ?? process.env.LATCHKEY_TOKEN;
  if (!token && ctx.out.interactive) token = answer(await password({ message: 'API token (an admin makes one with POST /api/v1/tokens)' }));
  if (!token) throw new CliError('give a token: set LATCHKEY_TOKEN, pass --token, or run on a terminal to be asked', ExitCode.Usage);

  const me = await new ApiClient(url, token).get<User>('/api/v1/me');
  const name = options.profile ?? ctx.options.profile ?? DEFAULT_PROFILE;
  const config = readConfig();
  config.profiles[name] = { url, token };
  config.currentProfile = name;
  writeConfig(config);
  ctx.out.result({ profile: name, url, user: { id: me.id, email: me.email, role: me.role } }, () => `Signed in to ${url} as ${me.email} (profile ${name}, saved in ${configPath()})`);
}

function answer(value: string | symbol): string {
  if (isCancel(value) || typeof value !== 'string') throw new CliError('cancelled', ExitCode.Usage);
  return value;
}

export async function whoami(ctx: Context): Promise<void> {
  const api = ctx.api();
  const me = await api.get<User & { groups?: string[] }>('/api/v1/me');
  ctx.out.result({ ...me, url: api.url }, () => `${me.email} (${me.name}, ${me.role}) on ${api.url}${me.groups?.length ? `\ngroups: ${me.groups.join(', ')}` : ''}`);
}
