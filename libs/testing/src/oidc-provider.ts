import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';
import { REPO_ROOT } from './test-stack';

/** What the provider says about each account (by account id = `sub`): email, name, groups, other claims. */
export type OidcTestAccounts = Record<
  string,
  {
    email: string;
    email_verified?: boolean;
    name?: string;
    groups?: string[];
    department?: string;
    /** The token endpoint answers a bad ID token for this account: expired, or signed with a key the provider never published. */
    idToken?: 'expired' | 'foreign-key';
  }
>;

export interface OidcTestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Replaces the accounts; the next sign-in sees them. */
  setAccounts(accounts: OidcTestAccounts): void;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A real OpenID Provider (`oidc-provider`, certified) on loopback, in its own process (the package
 * is ESM-only), with one confidential client whose redirect URI is `redirectUri`. Its development
 * login form takes any account id as the login (see tools/oidc-test-provider).
 */
export async function startOidcProvider(options: { redirectUri: string; accounts: OidcTestAccounts }): Promise<OidcTestProvider> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-oidc-'));
  const accountsFile = join(dir, 'accounts.json');
  const setAccounts = (accounts: OidcTestAccounts) => writeFileSync(accountsFile, JSON.stringify(accounts));
  setAccounts(options.accounts);
  const clientId = 'latchkey-test';
  const clientSecret = `oidc-secret-${randomBytes(24).toString('base64url')}`;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [resolve(REPO_ROOT, 'tools/oidc-test-provider/provider.mjs')], {
    env: {
      ...process.env,
      PORT: String(port),
      CLIENT_ID: clientId,
      CLIENT_SECRET: clientSecret,
      REDIRECT_URI: options.redirectUri,
      ACCOUNTS_FILE: accountsFile,
      NODE_ENV: 'test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`OIDC test provider did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening ')) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`OIDC test provider exited (${code}):\n${output}`));
    });
  });
  return {
    issuer: `http://127.0.0.1:${port}`,
    clientId,
    clientSecret,
    setAccounts,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
