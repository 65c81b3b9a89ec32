import type { AccessRequest, RequestableItem } from '@latchkey/contracts';
import { ApiClient, ApiError, query } from './api';
import { CliError, ExitCode } from './exit-codes';
import { Output } from './output';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (text: string) => UUID.test(text);

/** Statuses after which a request holds no access any more. */
export const ENDED = new Set(['EXPIRED', 'REVOKED', 'REJECTED', 'FAILED']);
export const LOSING_ACCESS = new Set(['REVOKING', 'REVOKED', 'EXPIRED']);

export interface ResolvedItem {
  resourceId: string;
  path: string;
  permission: string;
  offer: RequestableItem | null;
}

/** Every page of what the caller may request matching `q`. */
export async function requestable(api: ApiClient, q?: string): Promise<RequestableItem[]> {
  const items: RequestableItem[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await api.get<{ items: RequestableItem[]; nextPageToken?: string }>(`/api/v1/me/requestable${query({ q, pageSize: 200, pageToken })}`);
    items.push(...answer.items);
    pageToken = answer.nextPageToken;
    if (!pageToken) break;
  }
  return items;
}

/**
 * RESOURCE is a path (`db/schema/table`, matched exactly) or a resource id, resolved through what
 * the caller may request; the permission defaults to the only one offered.
 */
export async function resolveItems(api: ApiClient, resources: string[], permission: string | undefined): Promise<ResolvedItem[]> {
  const resolved: ResolvedItem[] = [];
  for (const resource of resources) {
    let offer: RequestableItem | null;
    if (isUuid(resource)) {
      offer = (await requestable(api)).find((i) => i.resource.id === resource) ?? null;
      if (!offer && !permission) throw new CliError(`you may not request resource ${resource}: see \`latchkey requestable\``, ExitCode.Denied);
    } else {
      const matches = (await requestable(api, resource)).filter((i) => i.resource.path === resource);
      if (matches.length === 0)
        throw new CliError(`nothing you may request is named "${resource}": see \`latchkey requestable ${resource.split('/')[0]}\``, ExitCode.Denied);
      if (matches.length > 1)
        throw new CliError(
          `"${resource}" names resources in several integrations; give the resource id instead:\n${matches.map((m) => `  ${m.resource.id}  (integration ${m.resource.integrationId})`).join('\n')}`,
          ExitCode.Usage,
        );
      offer = matches[0];
    }
    const chosen = permission ?? (offer && offer.permissions.length === 1 ? offer.permissions[0] : undefined);
    if (!chosen) throw new CliError(`choose a permission for ${resource} with --permission: one of ${offer?.permissions.join(', ')}`, ExitCode.Usage);
    resolved.push({ resourceId: offer?.resource.id ?? resource, path: offer?.resource.path ?? resource, permission: chosen.toUpperCase(), offer });
  }
  return resolved;
}

export interface RequestOptions {
  durationMinutes: number;
  reason?: string;
}

/** Dry run first: who approves, or each denied item with its reasons (and exit 3). */
export async function dryRun(api: ApiClient, items: ResolvedItem[], options: RequestOptions): Promise<AccessRequest[]> {
  const body = {
    items: items.map((i) => ({ resourceId: i.resourceId, permission: i.permission })),
    durationMinutes: options.durationMinutes,
    justification: options.reason,
    dryRun: true,
  };
  try {
    const answer = await api.post<{ requests: AccessRequest[] }>('/api/v1/access-requests', body);
    return answer.requests;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403 && Array.isArray(err.body.details?.denials)) {
      const denials = err.body.details.denials as Array<{ resourceId: string; permission: string; reasons: string[] }>;
      const pathOf = (id: string) => items.find((i) => i.resourceId === id)?.path ?? id;
      const lines = denials.map((d) => `  ${pathOf(d.resourceId)} (${d.permission}):\n${d.reasons.map((r) => `    - ${r}`).join('\n')}`);
      throw new CliError(`not allowed:\n${lines.join('\n')}\nSee what you may request: latchkey requestable`, ExitCode.Denied, { denials });
    }
    if (err instanceof ApiError && err.status === 400) throw new CliError(err.message, ExitCode.Usage, err.body.details);
    throw err;
  }
}

export function approversOf(r: AccessRequest): string {
  if (r.approvalMode === 'AUTOMATIC') return 'approved automatically';
  const people = r.approverGroups.map((g) => (g.approverEmails.length ? g.approverEmails.join(' or ') : `${g.type} ${g.values.join(', ')} (nobody resolved)`));
  return `${r.approvalMode === 'ALL_OF' ? 'all of' : 'any of'}: ${people.join('; ')}`;
}

export function describe(r: AccessRequest): string {
  return r.items.map((i) => `${i.path} (${i.permission})`).join(', ');
}

/**
 * Polls until the request is GRANTED (returns it), ends without access (exit 5), or `timeoutMs`
 * passes (exit 4, the request stays open).
 */
export async function waitForGrant(api: ApiClient, out: Output, id: string, timeoutMs: number): Promise<AccessRequest> {
  const deadline = Date.now() + timeoutMs;
  let current = await api.get<AccessRequest>(`/api/v1/access-requests/${id}`);
  const progress = out.progress(waitingMessage(current));
  for (;;) {
    if (current.status === 'GRANTED') {
      progress.stop(`Access granted until ${current.expiresAt}`);
      return current;
    }
    if (ENDED.has(current.status) || current.status === 'REVOKING') {
      progress.stop(`Request ${current.status}`);
      const why = current.failureReason ?? current.statusReason ?? current.approvals.find((a) => a.decision === 'REJECTED')?.reason ?? null;
      throw new CliError(`request ${id} is ${current.status}${why ? `: ${why}` : ''}`, ExitCode.NotGranted, current);
    }
    if (Date.now() >= deadline) {
      progress.stop('Still waiting');
      throw new CliError(
        `gave up waiting after ${Math.round(timeoutMs / 1000)} s; request ${id} is still ${current.status}.\nNext: \`latchkey requests show ${id}\`, or \`latchkey connect ${id}\` once it is approved`,
        ExitCode.TimedOut,
        current,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    current = await api.get<AccessRequest>(`/api/v1/access-requests/${id}`);
    progress.update(waitingMessage(current));
  }
}

function waitingMessage(r: AccessRequest): string {
  if (r.status === 'PENDING') return `Waiting for approval (${approversOf(r)})`;
  if (r.status === 'APPROVED') return 'Approved; creating your database login';
  return `Request ${r.status}`;
}
