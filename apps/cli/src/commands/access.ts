import type { AccessDetails, AccessRequest, AccessRequestsCreated } from '@latchkey/contracts';
import { query } from '../api';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { parseDuration, table } from '../format';
import { approversOf, describe, dryRun, requestable, resolveItems, waitForGrant } from '../requests';

export async function listRequestable(ctx: Context, q: string | undefined): Promise<void> {
  const items = await requestable(ctx.api(), q);
  ctx.out.result({ items }, () =>
    items.length === 0
      ? 'Nothing to request' + (q ? ` matching "${q}"` : '')
      : table(
          ['RESOURCE', 'TYPE', 'PERMISSIONS', 'APPROVAL', 'MAX'],
          items.map((i) => [
            i.resource.path,
            i.resource.type.replace(/^postgresql-/, ''),
            i.permissions.join(','),
            [...new Set(i.flows.map((f) => f.approvers))].join(' | '),
            `${Math.max(...i.flows.map((f) => f.maxDurationMinutes)) / 60}h`,
          ]),
        ),
  );
}

export interface RequestCommandOptions {
  permission?: string;
  duration: string;
  reason?: string;
  wait: boolean;
  timeout: string;
}

export function minutesOption(text: string, option: string): number {
  const minutes = parseDuration(text);
  if (minutes === null || !Number.isInteger(minutes))
    throw new CliError(`${option} must be a duration like 30m, 2h or 1h30m (whole minutes), got "${text}"`, ExitCode.Usage);
  return minutes;
}

/** The longest the API holds a request's answer for its grant (the access service's limit). */
const MAX_ANSWER_WAIT_SECONDS = 10;

/**
 * Creates the request after a dry run; with --wait, waits until it is granted: a request approved
 * at once is granted within its own answer, others are polled. `reveal` (with --wait): a request
 * granted within that answer brings its one-time access details, then read.
 */
export async function createRequest(
  ctx: Context,
  resources: string[],
  options: RequestCommandOptions,
  printResult = true,
  reveal = false,
): Promise<{ requests: AccessRequest[]; accessDetails: AccessDetails[] }> {
  const durationMinutes = minutesOption(options.duration, '--duration');
  const timeoutMs = minutesOption(options.timeout, '--timeout') * 60_000;
  const api = ctx.api();
  const items = await resolveItems(api, resources, options.permission);
  const planned = await dryRun(api, items, { durationMinutes, reason: options.reason });
  for (const r of planned) {
    ctx.out.info(`${describe(r)} via flow "${r.flowName}": ${approversOf(r)}`);
    for (const w of r.warnings) ctx.out.warn(w.message);
  }
  const waitSeconds = options.wait ? Math.max(1, Math.min(MAX_ANSWER_WAIT_SECONDS, Math.floor(timeoutMs / 1000))) : 0;
  const answer = await api.post<AccessRequestsCreated>('/api/v1/access-requests', {
    items: items.map((i) => ({ resourceId: i.resourceId, permission: i.permission })),
    durationMinutes,
    justification: options.reason,
    ...(waitSeconds ? { waitSeconds, revealCredentials: reveal } : {}),
  });
  const created = answer.requests;
  const accessDetails = answer.accessDetails ?? [];
  for (const r of created) ctx.out.info(`Request ${r.id} is ${r.status}`);
  if (!options.wait) {
    if (printResult)
      ctx.out.result({ requests: created }, () => created.map((r) => `${r.id}\nNext: latchkey requests show ${r.id}  |  latchkey connect ${r.id}`).join('\n'));
    return { requests: created, accessDetails };
  }
  const granted: AccessRequest[] = [];
  for (const r of created) {
    if (r.status === 'GRANTED') ctx.out.info(`Access granted until ${r.expiresAt}`);
    granted.push(r.status === 'GRANTED' ? r : await waitForGrant(api, ctx.out, r.id!, timeoutMs));
  }
  if (printResult)
    ctx.out.result({ requests: granted }, () => granted.map((r) => `${r.id} GRANTED until ${r.expiresAt}\nNext: latchkey connect ${r.id}`).join('\n'));
  return { requests: granted, accessDetails };
}

export interface ListOptions {
  status?: string;
  mine?: boolean;
  toApprove?: boolean;
}

export async function listRequests(ctx: Context, options: ListOptions): Promise<void> {
  const api = ctx.api();
  const requesterId = options.mine ? (await api.get<{ id: string }>('/api/v1/me')).id : undefined;
  const answer = await api.get<{ items: AccessRequest[] }>(
    `/api/v1/access-requests${query({ status: options.status?.toUpperCase(), requesterId, awaitingMyApproval: options.toApprove ? 'true' : undefined, pageSize: 100 })}`,
  );
  ctx.out.result(answer, () =>
    answer.items.length === 0
      ? 'No requests'
      : table(
          ['ID', 'STATUS', 'REQUESTER', 'RESOURCES', 'FLOW', 'EXPIRES'],
          answer.items.map((r) => [r.id ?? '', r.status, r.requesterEmail, describe(r), r.flowName, r.expiresAt ?? r.pendingExpiresAt ?? '']),
        ),
  );
}

export function renderRequest(r: AccessRequest): string {
  const lines = [
    `id:         ${r.id}`,
    `status:     ${r.status}${r.statusReason ? ` (${r.statusReason})` : ''}`,
    `requester:  ${r.requesterEmail}`,
    `resources:  ${describe(r)}`,
    `flow:       ${r.flowName}`,
    `approval:   ${approversOf(r)}`,
    `duration:   ${r.durationMinutes} min${r.expiresAt ? `, expires ${r.expiresAt}` : ''}`,
  ];
  if (r.justification) lines.push(`reason:     ${r.justification}`);
  for (const a of r.approvals) lines.push(`${a.decision.toLowerCase()} by ${a.email} at ${a.at}${a.reason ? `: ${a.reason}` : ''}`);
  if (r.failureReason) lines.push(`failure:    ${r.failureReason}`);
  if (r.revokedBy) lines.push(`revoked by: ${JSON.stringify(r.revokedBy)}`);
  return lines.join('\n');
}

export async function showRequest(ctx: Context, id: string): Promise<void> {
  const r = await ctx.api().get<AccessRequest>(`/api/v1/access-requests/${encodeURIComponent(id)}`);
  ctx.out.result(r, () => renderRequest(r));
}

export async function decide(ctx: Context, id: string, verb: 'approve' | 'reject' | 'revoke', reason: string | undefined): Promise<void> {
  const r = await ctx.api().post<AccessRequest>(`/api/v1/access-requests/${encodeURIComponent(id)}/${verb}`, reason ? { reason } : {});
  ctx.out.result(r, () => `Request ${r.id} is ${r.status}`);
}

export async function extend(ctx: Context, id: string, duration: string): Promise<void> {
  const minutes = minutesOption(duration, '--duration');
  const r = await ctx.api().post<AccessRequest>(`/api/v1/access-requests/${encodeURIComponent(id)}/extend`, { minutes });
  ctx.out.result(r, () => `Request ${r.id} is ${r.status}, expires ${r.expiresAt}`);
}
