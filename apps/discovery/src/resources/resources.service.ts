import { Inject, Injectable } from '@nestjs/common';
import { AppException, diffFields, ErrorCode, isCleanText, permissionsOf } from '@latchkey/contracts';
import type { Actor, ReceivedOf, Contracts, Resource } from '@latchkey/contracts';
import { ResourcesRepository, StoredResource } from './resources.repository';

type ResourceQuery = ReceivedOf<typeof Contracts.discoveryResourcesList>;
type SelectionQuery = ReceivedOf<typeof Contracts.discoveryResourcesSelect>;

/** What the API needs of the inventory (reads, and tags written), narrow so that unit tests hand-write it. */
export type ResourceRows = Pick<ResourcesRepository, 'page' | 'findById' | 'putApiTags'>;

/** The inventory as the API shows it: effective tags, permissions from the type, paged by path. */
@Injectable()
export class ResourcesService {
  constructor(@Inject(ResourcesRepository) private readonly resources: ResourceRows) {}

  /** Like `list`, restricted to what at least one of the flow targets covers. */
  select(query: SelectionQuery): Promise<{ items: Resource[]; nextPageToken?: string }> {
    return this.list(query, query.targets);
  }

  async list(query: ResourceQuery, targets?: SelectionQuery['targets']): Promise<{ items: Resource[]; nextPageToken?: string }> {
    const after = query.pageToken === undefined ? undefined : decodePageToken(query.pageToken);
    if (query.pageToken !== undefined && !after) throw AppException.validation([{ field: 'pageToken', rule: 'must be a token from a previous page' }]);
    const [tagKey, tagValue] = splitTag(query.tag);
    const rows = await this.resources.page({
      integrationId: query.integrationId,
      type: query.type,
      q: query.q || undefined,
      tagKey,
      tagValue,
      after,
      limit: query.pageSize + 1,
      targets,
    });
    const items = rows.slice(0, query.pageSize);
    const last = items.at(-1);
    return rows.length > query.pageSize && last ? { items: items.map(toView), nextPageToken: encodePageToken(last) } : { items: items.map(toView) };
  }

  async get(id: string): Promise<Resource> {
    const stored = await this.resources.findById(id);
    if (!stored) throw notFound(id);
    return toView(stored);
  }

  /** Replaces the API tags; they win over comment tags and survive refreshes. */
  async putTags(id: string, tags: Record<string, string>, actor: Actor): Promise<Resource> {
    const audited = ({ resource, before }: { resource: StoredResource; before: Record<string, string> }) => ({
      action: 'resource.tags-updated',
      actor,
      targetType: 'resource',
      targetId: id,
      targetName: resource.path,
      diff: diffFields({ apiTags: before }, { apiTags: tags }),
      details: { integrationId: resource.integrationId },
    });
    if (!(await this.resources.putApiTags(id, tags, audited))) throw notFound(id);
    return this.get(id);
  }
}

const notFound = (id: string) => new AppException(ErrorCode.NotFound, `No resource with id ${id}.`);

/** `key` or `key=value` (split at the first `=`). */
function splitTag(tag: string | undefined): [string | undefined, string | undefined] {
  if (!tag) return [undefined, undefined];
  const at = tag.indexOf('=');
  return at < 0 ? [tag, undefined] : [tag.slice(0, at), tag.slice(at + 1)];
}

const encodePageToken = (r: StoredResource) => Buffer.from(JSON.stringify({ path: r.path, id: r.id })).toString('base64url');

function decodePageToken(token: string): { path: string; id: string } | undefined {
  try {
    const p = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { path?: unknown; id?: unknown };
    if (
      typeof p.path === 'string' &&
      isCleanText(p.path) &&
      typeof p.id === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(p.id)
    )
      return { path: p.path, id: p.id };
  } catch {
    // not base64url JSON: reported by the caller
  }
  return undefined;
}

function toView(r: StoredResource): Resource {
  return {
    id: r.id,
    integrationId: r.integrationId,
    type: r.type,
    kind: r.kind,
    path: r.path,
    parts: { ...(r.database === null ? {} : { database: r.database }), ...(r.schema === null ? {} : { schema: r.schema }), name: r.name },
    owner: r.owner,
    comment: r.comment,
    tags: { ...r.commentTags, ...r.apiTags },
    apiTags: r.apiTags,
    // Latchkey's own roles, and roles that are or reach more power than a grant may give, are
    // shown, never handed out: the reason says why.
    permissions: r.managed || r.unrequestableReason !== null ? [] : [...permissionsOf(r.type)],
    managed: r.managed,
    unrequestableReason: r.unrequestableReason,
    discoveredAt: r.discoveredAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
