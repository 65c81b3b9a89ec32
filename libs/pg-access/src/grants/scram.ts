import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DEFAULT_GRANT_SCRAM_ITERATIONS } from '@latchkey/config';

export interface ScramOptions {
  /** Default: 16 random bytes, as PostgreSQL picks. */
  salt?: Buffer;
  /** Default: 4096, PostgreSQL's default `scram_iterations`. */
  iterations?: number;
}

const DEFAULT_ITERATIONS = 4096;

/**
 * The iterations of the verifier of a password from generatePassword() (a personal role's), unless
 * the caller asks for others (provisioning's GRANT_SCRAM_ITERATIONS).
 * Setting a password costs the server a key derivation with the verifier's own iterations, whatever
 * form the password comes in: CREATE and ALTER ROLE ... PASSWORD check that it is not the empty
 * one by deriving the empty password's key. At PostgreSQL's 4,096 that was about 4.4 ms of the
 * target's CPU per grant, as much as the rest of the grant, and each login of the person derives
 * the key again in their client. Iterations slow the guessing of a password a person chose; a
 * generated one holds 256 random bits, which 64 iterations or 4,096 leave out of reach alike.
 * Passwords that are not generated here (the connector's) keep PostgreSQL's default.
 */
export const GENERATED_PASSWORD_ITERATIONS = DEFAULT_GRANT_SCRAM_ITERATIONS;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PASSWORD_BYTES = 32;
// PostgreSQL runs SASLprep on a password only when it holds a non-ASCII character.
const ASCII_WITHOUT_NUL = /^[\x01-\x7f]+$/;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 and 7677), computed here
 * so that `ALTER ROLE ... PASSWORD` never carries the plaintext into server logs or statistics.
 * Refuses non-ASCII passwords: the server would SASLprep them and the verifier would not match.
 */
export function scramVerifier(password: string, opts: ScramOptions = {}): string {
  const { salt, iterations } = scramInputs(password, opts);
  return verifierText(pbkdf2Sync(password, salt, iterations, KEY_BYTES, 'sha256'), salt, iterations);
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * scramVerifier with the key derivation (4,096 rounds of HMAC-SHA-256, about a millisecond) on
 * libuv's thread pool: the service's event loop goes on meanwhile, and a caller can start it
 * before its first round trip to the target and await it before the statement that needs it.
 */
export async function scramVerifierAsync(password: string, opts: ScramOptions = {}): Promise<string> {
  const { salt, iterations } = scramInputs(password, opts);
  return verifierText(await pbkdf2Async(password, salt, iterations, KEY_BYTES, 'sha256'), salt, iterations);
}

/**
 * Above this many iterations a verifier is derived on libuv's thread pool (scramVerifierAsync):
 * 1,024 take about 0.2 ms of the event loop here, 100,000 (GRANT_SCRAM_ITERATIONS' maximum)
 * about 18 ms; below it the derivation is short enough to stay on the loop.
 */
export const INLINE_DERIVATION_MAX_ITERATIONS = 1024;

/**
 * The verifier of a personal role's password with `iterations` (default GENERATED_PASSWORD_ITERATIONS):
 * derived at once for a small count, on libuv's thread pool for a large one, so that a site's
 * high GRANT_SCRAM_ITERATIONS never blocks the service's event loop.
 */
export async function personalRoleVerifier(password: string, iterations = GENERATED_PASSWORD_ITERATIONS): Promise<string> {
  return iterations > INLINE_DERIVATION_MAX_ITERATIONS ? scramVerifierAsync(password, { iterations }) : scramVerifier(password, { iterations });
}

function scramInputs(password: string, opts: ScramOptions): { salt: Buffer; iterations: number } {
  if (!ASCII_WITHOUT_NUL.test(password)) throw new Error('A SCRAM password must be non-empty ASCII without NUL characters');
  const salt = opts.salt ?? randomBytes(SALT_BYTES);
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error('SCRAM iterations must be a positive integer');
  return { salt, iterations };
}

function verifierText(salted: Buffer, salt: Buffer, iterations: number): string {
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A fresh password for a grant: 32 random bytes, base64url (43 characters). */
export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString('base64url');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
