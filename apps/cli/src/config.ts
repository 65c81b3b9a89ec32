import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, ExitCode } from './exit-codes';

export interface Profile {
  url: string;
  token: string;
}

export interface ConfigFile {
  currentProfile: string;
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';

/** `$XDG_CONFIG_HOME/latchkey/config.json` (or `~/.config/latchkey/config.json`). */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'latchkey', 'config.json');
}

export function readConfig(path = configPath()): ConfigFile {
  if (!existsSync(path)) return { currentProfile: DEFAULT_PROFILE, profiles: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConfigFile>;
    return { currentProfile: parsed.currentProfile ?? DEFAULT_PROFILE, profiles: parsed.profiles ?? {} };
  } catch (err) {
    throw new CliError(`${path} is not valid JSON (${(err as Error).message}); fix or remove it and run \`latchkey login\` again`);
  }
}

/** Writes the file readable by its owner only (0600, folder 0700), replacing it atomically. */
export function writeConfig(config: ConfigFile, path = configPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/**
 * The server and token to use: LATCHKEY_URL and LATCHKEY_TOKEN win over the stored profile
 * (`--profile`, else the current one).
 */
export function resolveProfile(profileName: string | undefined, env: NodeJS.ProcessEnv = process.env): Profile & { name: string } {
  const config = readConfig(configPath(env));
  const name = profileName ?? config.currentProfile;
  const stored = config.profiles[name];
  const url = env.LATCHKEY_URL || stored?.url;
  const token = env.LATCHKEY_TOKEN || stored?.token;
  if (!url || !token) {
    const missing = profileName && !stored ? `no profile named "${name}"` : 'not signed in';
    throw new CliError(`${missing}: run \`latchkey login URL\` (or set LATCHKEY_URL and LATCHKEY_TOKEN)`, ExitCode.Unauthenticated);
  }
  return { name, url: url.replace(/\/+$/, ''), token };
}
