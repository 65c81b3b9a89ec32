import { z } from 'zod';
import { AccessFlowInput, ResolvedApproverGroup, ResourceSelector } from './access';
import { defineRequest } from './contract';
import { Resource } from './discovery';
import { Warning } from './errors';
import { Permission, ResourceType } from './enums';
import { Caller } from './identities';
import { listOf } from './integrations';
import { text } from './text';

const Uuid = z.string().uuid('must be a UUID');

/** The filters a person can put on "what may I request" (and on a selection of the inventory). */
const RequestableFilters = {
  integrationId: Uuid.optional(),
  type: ResourceType.optional(),
  /** Fragment of the path, case-insensitive. */
  q: text({ max: 200 }).optional(),
  /** `key` or `key=value`. */
  tag: text({ max: 400 }).optional(),
  pageSize: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  pageToken: text({ max: 400 }).optional(),
};

export const RequestableQuery = z.object(RequestableFilters);
export type RequestableQuery = z.input<typeof RequestableQuery>;

/** One flow target as discovery needs it to select resources: where, which type, which of them. */
export const TargetSelection = z.object({ integrationId: Uuid, resourceType: ResourceType, resources: ResourceSelector.optional() });
export type TargetSelection = z.infer<typeof TargetSelection>;

/** The resources that at least one of the targets covers, paged by path like the inventory list. */
export const ResourceSelectionQuery = z.object({ ...RequestableFilters, targets: z.array(TargetSelection).max(5000) });
export type ResourceSelectionQuery = z.input<typeof ResourceSelectionQuery>;

/** A flow that offers a resource to the caller, as a requester needs to see it before asking. */
export const RequestableFlow = z.object({
  id: z.string().uuid(),
  name: z.string(),
  permissions: z.array(Permission),
  maxDurationMinutes: z.number().int(),
  approvalRequired: z.boolean(),
  /** Who approves, in words: "automatic", "any of: group dba, user ana@example.com", "all of: resource owner (tag owner=payments)". */
  approvers: z.string(),
  justificationRequired: z.boolean(),
  maxExtensions: z.number().int(),
  /** When requests may be made, or null for any time. */
  timeframe: z.string().nullable(),
  /** Whether the timeframe (if any) allows a request now. */
  availableNow: z.boolean(),
});
export type RequestableFlow = z.infer<typeof RequestableFlow>;

export const RequestableItem = z.object({ resource: Resource, permissions: z.array(Permission), flows: z.array(RequestableFlow) });
export type RequestableItem = z.infer<typeof RequestableItem>;

/**
 * "What may I request" between access and the gateway: each flow's words once, and each resource
 * naming the flows that offer it by their place in `flows`: a bare number when the flow offers the
 * resource's `permissions` with its usual approvers, else what differs there (fewer permissions; who
 * approves when the resource's owner does). With 100 flows offering the same tables, the written-out
 * page repeats every flow on every row (760 KB for 50 rows, past NATS's 1 MB limit well before 200
 * rows); this one grows by a few bytes per flow and row. The gateway answers the written-out form.
 */
const Offer = z.union([
  z.number().int().min(0),
  z.object({ flow: z.number().int().min(0), permissions: z.array(Permission), approvers: z.string().optional() }),
]);
export const RequestablePage = z.object({
  flows: z.array(RequestableFlow.omit({ permissions: true })),
  items: z.array(z.object({ resource: Resource, permissions: z.array(Permission), offers: z.array(Offer) })),
  nextPageToken: z.string().optional(),
});
export type RequestablePage = z.infer<typeof RequestablePage>;

/** The page as the API answers it: every resource with its flows written out. */
export function expandRequestablePage(page: RequestablePage): { items: RequestableItem[]; nextPageToken?: string } {
  const items = page.items.map(({ resource, permissions, offers }) => ({
    resource,
    permissions,
    flows: offers.map((offer) =>
      typeof offer === 'number'
        ? { ...page.flows[offer], permissions }
        : { ...page.flows[offer.flow], permissions: offer.permissions, ...(offer.approvers === undefined ? {} : { approvers: offer.approvers }) },
    ),
  }));
  return page.nextPageToken === undefined ? { items } : { items, nextPageToken: page.nextPageToken };
}
const utf8 = new TextEncoder();
const COMMA = utf8.encode(',');
const CLOSE = utf8.encode('}');

/**
 * The API's written-out answer as UTF-8 JSON, the same text as `JSON.stringify(expandRequestablePage(page))`
 * without building it: each flow is encoded once and its bytes repeated on every row that offers it.
 * With 100 flows offering the same tables the written-out page holds 2,500 flow objects for 50 rows
 * (743 KB); building them, serializing them and encoding that text was the gateway's largest own
 * cost in a CPU profile of the bench. Here only the parts that differ are encoded, then copied once.
 */
export function requestablePageJson(page: RequestablePage): Uint8Array {
  // '{"id":...,"availableNow":true,"permissions":' for each flow: the offer's permissions and '}' close it.
  const heads = page.flows.map((flow) => {
    const json = JSON.stringify(flow);
    return utf8.encode(`${json.length > 2 ? `${json.slice(0, -1)},` : '{'}"permissions":`);
  });
  // A row's flows depend only on its offers and permissions: rows offered alike (most of a page when
  // the same flows cover a schema) share one encoded list.
  const flowLists = new Map<string, Uint8Array>();
  const flowsOf = (offers: RequestablePage['items'][number]['offers'], permissions: Permission[], shared: Uint8Array) => {
    const key = `${JSON.stringify(permissions)}${JSON.stringify(offers)}`;
    let list = flowLists.get(key);
    if (!list) {
      const chunks: Uint8Array[] = [];
      offers.forEach((offer, i) => {
        if (i > 0) chunks.push(COMMA);
        const head = typeof offer === 'number' ? heads[offer] : undefined;
        if (head) chunks.push(head, shared, CLOSE);
        else if (typeof offer === 'number') chunks.push(utf8.encode(JSON.stringify({ ...page.flows[offer], permissions })));
        else
          chunks.push(
            utf8.encode(
              JSON.stringify({
                ...page.flows[offer.flow],
                permissions: offer.permissions,
                ...(offer.approvers === undefined ? {} : { approvers: offer.approvers }),
              }),
            ),
          );
      });
      list = concatBytes(chunks);
      flowLists.set(key, list);
    }
    return list;
  };
  const chunks: Uint8Array[] = [];
  const text = (part: string) => chunks.push(utf8.encode(part));
  text('{"items":[');
  page.items.forEach(({ resource, permissions, offers }, row) => {
    const shared = utf8.encode(JSON.stringify(permissions));
    text(`${row === 0 ? '' : ','}{"resource":${JSON.stringify(resource)},"permissions":`);
    chunks.push(shared);
    text(',"flows":[');
    chunks.push(flowsOf(offers, permissions, shared));
    text(']}');
  });
  text(`]${page.nextPageToken === undefined ? '' : `,"nextPageToken":${JSON.stringify(page.nextPageToken)}`}}`);
  return concatBytes(chunks);
}

function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((length, chunk) => length + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
/** A person an unsaved flow's requestors let in. */
export const FlowDryRunPerson = z.object({ id: z.string().uuid(), email: z.string(), name: z.string() });
/** A resource an unsaved flow offers, with the permissions it offers there and who would approve a request for it now. */
export const FlowDryRunResource = z.object({ resource: Resource, permissions: z.array(Permission), approvers: z.array(ResolvedApproverGroup) });
/**
 * "Who could request what, and who would approve": an unsaved flow evaluated against the people
 * directory (active users) and the inventory as they are now. Lists are samples of at most
 * `sampleSize`; `total`/`more` say whether there is more.
 */
export const FlowDryRun = z.object({
  warnings: z.array(Warning),
  approvalRequired: z.boolean(),
  requestors: z.object({ total: z.number().int(), people: z.array(FlowDryRunPerson) }),
  resources: z.object({ items: z.array(FlowDryRunResource), more: z.boolean() }),
});
export type FlowDryRun = z.infer<typeof FlowDryRun>;
export const FLOW_DRY_RUN_SAMPLE = 25;

export const RequestableContracts = {
  /** Evaluates a flow that is not saved (nothing is written, nothing audited). Refused like a save when it could never match. */
  accessFlowsDryRun: defineRequest('access.flows.dry-run', z.object({ input: AccessFlowInput }), FlowDryRun),
  /** Served by any discovery process: the inventory lives in the control database. */
  discoveryResourcesSelect: defineRequest('discovery.resources.select', ResourceSelectionQuery, listOf(Resource)),
  /** What the caller's active access flows offer them, resource by resource, each flow written once (RequestablePage; the gateway writes it out). */
  accessMeRequestablePage: defineRequest('access.me.requestable.v2', z.object({ caller: Caller, query: RequestableQuery }), RequestablePage),
} as const;
