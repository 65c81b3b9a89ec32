import { spawn } from 'node:child_process';
import { confirm, isCancel } from '@clack/prompts';
import type { AccessDetails, AccessRequest } from '@latchkey/contracts';
import { ApiClient, ApiError, query } from '../api';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { isUuid, LOSING_ACCESS, resolveItems, waitForGrant } from '../requests';
import { createRequest, minutesOption, type RequestCommandOptions } from './access';

export interface ConnectOptions extends Omit<RequestCommandOptions, 'wait'> {
  reset?: boolean;
  print?: boolean;
}

/** How often a running session checks that its grant still stands. */
const WATCH_INTERVAL_MS = 2000;

/**
 * RESOURCE or REQUEST -> a granted request (an open one of mine for that resource, else a new
 * one, waited for) -> the one-time access details -> psql with PGPASSWORD in its environment only.
 */
export async function connect(ctx: Context, target: string, psqlArgs: string[], options: ConnectOptions): Promise<number> {
  const timeoutMs = minutesOption(options.timeout, '--timeout') * 60_000;
  minutesOption(options.duration, '--duration');
  const api = ctx.api();
  const { request, details: handed } = await grantedRequest(ctx, api, target, options, timeoutMs);
  const details = handed ?? (await accessDetails(ctx, api, request, options));

  if (options.print) {
    ctx.out.warn('this prints a password: it is shown once; keep it out of shell history, logs and chats');
    ctx.out.result(details, () =>
      [
        `host:     ${details.host}`,
        `port:     ${details.port}`,
        `database: ${details.database}`,
        `username: ${details.username}`,
        `password: ${details.password}`,
        `sslmode:  ${details.sslmode}`,
        `expires:  ${details.expiresAt}`,
        ...(details.customAccessDetails ? [`notes:    ${details.customAccessDetails}`] : []),
      ].join('\n'),
    );
    return ExitCode.Ok;
  }
  if (details.customAccessDetails) ctx.out.info(details.customAccessDetails);
  ctx.out.info(`Connecting as ${details.username} to ${details.database} on ${details.host}:${details.port} (access until ${details.expiresAt})`);
  return runPsql(api, request.id!, details, psqlArgs);
}

/** The granted request; `details` when a new request's answer brought its one-time access details. */
async function grantedRequest(
  ctx: Context,
  api: ApiClient,
  target: string,
  options: ConnectOptions,
  timeoutMs: number,
): Promise<{ request: AccessRequest; details?: AccessDetails }> {
  if (isUuid(target)) {
    const existing = await api.get<AccessRequest>(`/api/v1/access-requests/${target}`).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    });
    if (existing) return { request: existing.status === 'GRANTED' ? existing : await waitForGrant(api, ctx.out, target, timeoutMs) };
  }
  // A resource: reuse my open request for it, else request it.
  const [item] = await resolveItems(api, [target], options.permission);
  const me = await api.get<{ id: string }>('/api/v1/me');
  for (const status of ['GRANTED', 'APPROVED', 'PENDING']) {
    const mine = await api.get<{ items: AccessRequest[] }>(`/api/v1/access-requests${query({ status, requesterId: me.id, pageSize: 100 })}`);
    const open = mine.items.find((r) => r.items.some((i) => i.resourceId === item.resourceId && i.permission === item.permission));
    if (open) {
      ctx.out.info(`Using request ${open.id} (${open.status})`);
      return { request: open.status === 'GRANTED' ? open : await waitForGrant(api, ctx.out, open.id!, timeoutMs) };
    }
  }
  const created = await createRequest(ctx, [item.path], { ...options, permission: item.permission, wait: true }, false, true);
  const [request] = created.requests;
  return { request, details: created.accessDetails.find((d) => d.requestId === request.id) };
}

/** The one-time details; when the password was already read, a reset (asked for, or --reset). */
async function accessDetails(ctx: Context, api: ApiClient, request: AccessRequest, options: ConnectOptions): Promise<AccessDetails> {
  const details = await api.get<AccessDetails>(`/api/v1/access-requests/${request.id}/access-details`);
  if (details.password) return details;
  let reset = options.reset ?? false;
  if (!reset && ctx.out.interactive) {
    const answer = await confirm({
      message: `The password of ${details.username} was already shown at ${details.passwordViewedAt}. Reset it (sessions using it keep running)?`,
    });
    reset = !isCancel(answer) && answer === true;
  }
  if (!reset)
    throw new CliError(`the password of request ${request.id} was already shown at ${details.passwordViewedAt}; run again with --reset to get a new one`);
  ctx.out.info('Resetting the password');
  return api.post<AccessDetails>(`/api/v1/access-requests/${request.id}/reset-credentials`);
}

/**
 * psql with the password in its environment (never argv, never a file). While it runs, the grant
 * is watched: when it ends (revoked or expired) psql is stopped and the CLI says so (exit 6).
 */
async function runPsql(api: ApiClient, requestId: string, details: AccessDetails, psqlArgs: string[]): Promise<number> {
  const psql = process.env.LATCHKEY_PSQL || 'psql';
  const args = ['--host', details.host, '--port', String(details.port), '--username', details.username, '--dbname', details.database, ...psqlArgs];
  const child = spawn(psql, args, {
    stdio: 'inherit',
    env: { ...process.env, PGPASSWORD: details.password ?? '', PGSSLMODE: details.sslmode, LATCHKEY_TOKEN: '' },
  });
  // Ctrl-C belongs to psql (it cancels the running query); the CLI must outlive it.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  let ended: AccessRequest | null = null;
  const watcher = setInterval(() => {
    api
      .get<AccessRequest>(`/api/v1/access-requests/${requestId}`)
      .then((r) => {
        if (LOSING_ACCESS.has(r.status) && !ended) {
          ended = r;
          child.kill('SIGTERM');
        }
      })
      .catch(() => undefined);
  }, WATCH_INTERVAL_MS);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new CliError(`cannot start ${psql}: ${err.message} (install the PostgreSQL client, or set LATCHKEY_PSQL)`)));
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  }).finally(() => {
    clearInterval(watcher);
    process.off('SIGINT', ignore);
  });
  if (!ended) {
    const last = await api.get<AccessRequest>(`/api/v1/access-requests/${requestId}`).catch(() => null);
    if (last && LOSING_ACCESS.has(last.status)) ended = last;
  }
  if (ended) {
    const r: AccessRequest = ended;
    const by = r.revokedBy ? ` by ${r.revokedBy.email ?? r.revokedBy.id}` : '';
    const how = r.status === 'EXPIRED' ? 'expired' : `was revoked${by}`;
    throw new CliError(
      `your access ended: request ${requestId} ${how}; the session was closed. Request again: latchkey connect ${r.items[0]?.path ?? requestId}`,
      ExitCode.AccessEnded,
      r,
    );
  }
  return code;
}
