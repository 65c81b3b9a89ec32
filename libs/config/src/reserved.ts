import { posix } from 'node:path';
import { ENVIRONMENT_SCHEMAS } from './env';

/**
 * Variables Latchkey itself reads that are not (yet) in a service's schema above: single sign-on,
 * mail, and the conventional database URL. Every variable of ENVIRONMENT_SCHEMAS joins the list
 * on its own, so a new setting is protected the day it is added.
 */
const OTHER_OWN_VARIABLES = ['DATABASE_URL', 'SMTP_URL', 'SMTP_FROM', 'OIDC_ISSUER_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_GROUPS_CLAIM'] as const;
/** Whole families that are Latchkey's: its own settings, single sign-on, mail. */
const OWN_PREFIXES = ['LATCHKEY_', 'OIDC_', 'SMTP_'] as const;

/** Every variable Latchkey itself uses (the services' config schemas and the list above). */
export const LATCHKEY_VARIABLES: ReadonlySet<string> = new Set([
  ...Object.values(ENVIRONMENT_SCHEMAS).flatMap((schema) => Object.keys(schema.shape)),
  ...OTHER_OWN_VARIABLES,
]);

/**
 * Whether a variable is Latchkey's own (its keys, tokens, URLs with passwords, ports...): such a
 * variable is never a secret store's source, and it reaches only the services whose schema reads it.
 * Compared regardless of case, as some platforms do.
 */
export function isLatchkeyVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return LATCHKEY_VARIABLES.has(upper) || OWN_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

export const LATCHKEY_VARIABLE_RULE = `must not name a variable Latchkey itself uses (${OWN_PREFIXES.map((p) => `${p}*`).join(', ')}, NATS_URL, REDIS_URL, DATABASE_URL, PORT, ...): point it at a variable that holds only this secret`;

/** The folder `npm start` keeps the master key and admin token in. */
export const LATCHKEY_STATE_FOLDER = '.latchkey';

export const LATCHKEY_FILE_RULE = `must not be one of Latchkey's own key files (the master key file, anything in a ${LATCHKEY_STATE_FOLDER}/ folder)`;

/**
 * The files Latchkey reads its own keys from, as this process's environment names them: every
 * Latchkey variable ending in _FILE (LATCHKEY_MASTER_KEY_FILE, and any key file added later).
 */
export function latchkeyKeyFiles(env: Record<string, string | undefined>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value && isLatchkeyVariable(name) && name.toUpperCase().endsWith('_FILE'))
    .map(([, value]) => posix.resolve(value!));
}

/**
 * Whether a secret file path points at Latchkey's own keys: any `.latchkey` folder on the way, or
 * one of `keyFiles` (compare real paths when the file system is at hand: a symlink is caught there).
 */
export function isLatchkeyFile(path: string, keyFiles: readonly string[] = []): boolean {
  const normalized = posix.resolve('/', path);
  if (normalized.split('/').includes(LATCHKEY_STATE_FOLDER)) return true;
  return keyFiles.some((file) => posix.resolve('/', file) === normalized);
}

/**
 * The environment one service is started with: Latchkey's own variables only where that service's
 * schema reads them (the admin token reaches the access service alone, the master key no gateway,
 * database URLs no rotation worker), everything else as it is (PATH, and the variables that env
 * secrets name on a connector host).
 */
export function serviceEnvironment(service: keyof typeof ENVIRONMENT_SCHEMAS, env: Record<string, string | undefined>): Record<string, string> {
  const own = new Set(Object.keys(ENVIRONMENT_SCHEMAS[service].shape));
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isLatchkeyVariable(name) && !own.has(name)) continue;
    result[name] = value;
  }
  return result;
}
