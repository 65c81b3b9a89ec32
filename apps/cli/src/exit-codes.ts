/** The `latchkey` exit codes, documented in the README and in `latchkey --help`. */
export const ExitCode = {
  Ok: 0,
  /** An error: the server answered an error, or could not be reached. */
  Failure: 1,
  /** `plan`: there are changes to apply (as `terraform plan -detailed-exitcode`). */
  Changes: 2,
  /** No access flow allows the request (the reasons are printed). */
  Denied: 3,
  /** Gave up waiting for approval after `--timeout`; the request stays open. */
  TimedOut: 4,
  /** The request ended without access: REJECTED, FAILED, or EXPIRED before it was granted. */
  NotGranted: 5,
  /** `connect`: the session ended because the grant ended (REVOKED or EXPIRED). */
  AccessEnded: 6,
  /** Not signed in, or the token was refused. */
  Unauthenticated: 7,
  /** Bad command-line arguments. */
  Usage: 64,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   error (the server refused, or could not be reached)
  2   plan: there are changes
  3   denied: no access flow allows the request (reasons printed)
  4   timed out waiting for approval (the request stays open)
  5   the request was rejected, failed, or expired before it was granted
  6   connect: the session ended because the access was revoked or expired
  7   not signed in, or the token was refused (run \`latchkey login\`)
  64  bad arguments`;

/** An error that ends the command with a given exit code and a message for people. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
