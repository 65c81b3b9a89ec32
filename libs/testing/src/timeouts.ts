/**
 * Jest timeout of a hook that starts real infrastructure: PostgreSQL clusters (initdb and pg_ctl
 * take seconds each on a loaded 2-core machine, where jest's default of 5 s failed), NATS, Redis,
 * or a stack of services. Generous on purpose: a start that hangs still fails, with the harness's
 * own message, from the shorter deadlines inside it.
 */
export const STARTUP_TIMEOUT_MS = 300_000;
