import { ConfigAccessFlow, CONFIG_FILE_API_VERSION, WebhookInput, webhookDisplayUrl } from '@latchkey/contracts';
import type { AccessFlow, ConfigFile, Group, Integration, IntegrationTypeDescription, User, Webhook } from '@latchkey/contracts';
import type { FileIssue, LoadedFile } from './config-file';

/** What the server holds, as the admin API answers it. */
export interface ServerState {
  integrations: Integration[];
  flows: AccessFlow[];
  types: IntegrationTypeDescription[];
  groups: Group[];
  users: User[];
  webhooks: Webhook[];
}

export type Kind = 'group' | 'user' | 'integration' | 'access flow' | 'webhook';
export type ListName = 'groups' | 'users' | 'integrations' | 'accessFlows' | 'webhooks';
type FileIntegration = ConfigFile['integrations'][number];
type FileFlow = ConfigFile['accessFlows'][number];
export type FieldDiff = Record<string, { before?: unknown; after?: unknown }>;

/** A user in the file's terms (the file's user after its defaults, or the server's). */
export interface UserAsFile {
  email: string;
  name: string;
  role: string;
  active: boolean;
  groups: string[];
  attributes: Record<string, string>;
}

/** A webhook endpoint as both sides are compared: the URL as the server shows it (secrets masked), filters by name. */
export interface WebhookAsFile {
  name: string;
  url: string;
  format: string;
  events: string[];
  filters: { integrations?: string[]; flows?: string[] };
  active: boolean;
}

export interface Change {
  action: 'create' | 'update' | 'delete';
  kind: Kind;
  name: string;
  /** The server's id (update, delete). */
  id?: string;
  /** The fields that differ: the server's value (before) and the file's (after). */
  fields: FieldDiff;
  /** Where the object is in the file (create, update). */
  at?: [ListName, number];
  /** The object as the file wants it, in the file's terms after the server's defaults (create, update). */
  desired?: Record<string, unknown>;
  /** Set on an update when the server's copy was last changed by someone other than `latchkey apply`. */
  drift?: { by: string; at: string };
}

export interface Plan {
  managedBy: string;
  changes: Change[];
  /** Objects this file manages that it no longer lists: deleted with --prune only. */
  notInFile: Array<{ kind: Kind; name: string }>;
}

/** An integration in the file's terms, after the server's defaults: what both sides are compared as. */
export function integrationAsFile(i: FileIntegration | Integration, types: IntegrationTypeDescription[]): FileIntegration {
  const defaults = types.find((t) => t.type === i.type)?.configDefaults ?? {};
  return {
    name: i.name,
    type: i.type,
    connectorId: i.connectorId,
    connectedResourceTypes: [...i.connectedResourceTypes],
    config: withoutUndefined({ ...defaults, ...i.config }),
    secret: i.secret as FileIntegration['secret'],
    credentialRotationDays: i.credentialRotationDays ?? null,
    customAccessDetails: i.customAccessDetails ?? null,
    integrationOwners: i.integrationOwners ?? [],
    resourceOwnerMappings: i.resourceOwnerMappings ?? [],
  };
}

/** A server's flow in the file's terms: targets name their integration, the schema's defaults filled in. */
export function flowAsFile(flow: AccessFlow, integrationNames: Map<string, string>): FileFlow {
  const candidate = {
    name: flow.name,
    active: flow.active,
    requestors: flow.requestors,
    targets: flow.targets.map(({ integrationId, ...target }) => ({ integration: integrationNames.get(integrationId) ?? integrationId, ...target })),
    approvers: flow.approvers,
    maxDurationMinutes: flow.maxDurationMinutes,
    timeframe: flow.timeframe,
    settings: flow.settings,
  };
  const parsed = ConfigAccessFlow.safeParse(candidate);
  return parsed.success ? parsed.data : (candidate as FileFlow);
}

const byLower = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : a < b ? -1 : a > b ? 1 : 0);
const sortedUnique = (names: readonly string[], spelling: (name: string) => string = (n) => n) => {
  const seen = new Map<string, string>();
  for (const name of names) if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), spelling(name));
  return [...seen.values()].sort(byLower);
};

/** A user in the file's terms; group names in the spelling the server keeps (groups are unique regardless of case). */
export function userAsFile(u: Omit<UserAsFile, 'active' | 'role'> & { active?: boolean; role?: string }, groupSpelling: (name: string) => string): UserAsFile {
  return {
    email: u.email.toLowerCase(),
    name: u.name,
    role: u.role ?? 'user',
    active: u.active ?? true,
    groups: sortedUnique(u.groups, groupSpelling),
    attributes: { ...u.attributes },
  };
}

/** A server's webhook in the file's terms: its filters name their integrations and flows. */
export function webhookAsFile(w: Webhook, integrationNames: Map<string, string>, flowNames: Map<string, string>): WebhookAsFile {
  return {
    name: w.name,
    url: w.url,
    format: w.format,
    events: [...new Set(w.events)].sort(),
    filters: filtersOf(
      w.filters.integrationIds?.map((id) => integrationNames.get(id) ?? id),
      w.filters.flowIds?.map((id) => flowNames.get(id) ?? id),
    ),
    active: w.active,
  };
}

const filtersOf = (integrations: string[] | undefined, flows: string[] | undefined): WebhookAsFile['filters'] => ({
  ...(integrations?.length ? { integrations: sortedUnique(integrations) } : {}),
  ...(flows?.length ? { flows: sortedUnique(flows) } : {}),
});

/**
 * The URL a file's webhook gives, inline or read from the variable it names; an issue when the
 * variable is not set or does not hold a valid URL.
 */
export function webhookUrl(loaded: LoadedFile, index: number, env: NodeJS.ProcessEnv): { url?: string; issue?: FileIssue } {
  const given = loaded.config.webhooks[index].url;
  if (typeof given === 'string') return { url: given };
  const value = env[given.env];
  if (value === undefined || value === '')
    return {
      issue: loaded.at(['webhooks', index, 'url', 'env'], `names the variable ${given.env}, which is not set here (plan and apply read the URL from it)`),
    };
  const parsed = WebhookInput.shape.url.safeParse(value);
  if (!parsed.success)
    return { issue: loaded.at(['webhooks', index, 'url', 'env'], `names the variable ${given.env}, whose value ${parsed.error.issues[0].message}`) };
  return { url: parsed.data };
}

/**
 * The changes that make the server hold what the file says, in a stable order (groups, users,
 * integrations, flows, webhooks; each by name). Objects the file does not list are left alone,
 * except those it manages, which `--prune` deletes. Refuses (as file issues) names of
 * integrations or flows that neither the file nor the server has, webhook URL variables that are
 * not set, and objects another file manages.
 */
export function computePlan(
  loaded: LoadedFile,
  server: ServerState,
  options: { prune: boolean; env?: NodeJS.ProcessEnv },
): { plan: Plan; issues: FileIssue[] } {
  const { config } = loaded;
  const env = options.env ?? process.env;
  const issues: FileIssue[] = [];
  const changes: Change[] = [];
  const notInFile: Plan['notInFile'] = [];
  const key = (name: string) => name.toLowerCase();
  const integrationNames = new Map(server.integrations.map((i) => [i.id, i.name]));
  const flowNames = new Map(server.flows.map((f) => [f.id, f.name]));
  const knownIntegrations = new Set([...server.integrations.map((i) => key(i.name)), ...config.integrations.map((i) => key(i.name))]);
  const knownFlows = new Set([...server.flows.map((f) => key(f.name)), ...config.accessFlows.map((f) => key(f.name))]);
  // A group keeps the spelling it was created with: the server's, else the file's groups list.
  const spellings = new Map([...config.groups.map((g) => [key(g.name), g.name] as const), ...server.groups.map((g) => [key(g.name), g.name] as const)]);
  const groupSpelling = (name: string) => spellings.get(key(name)) ?? name;

  const compare = <F extends object, S extends { id: string; managedBy?: string | null }>(
    kind: Kind,
    list: ListName,
    wanted: Array<F | null>,
    existing: S[],
    nameOf: (x: F | S) => string,
    asFile: (s: S) => F,
  ) => {
    const byName = new Map(existing.map((s) => [key(nameOf(s)), s]));
    const listed = new Set<string>();
    const planned: Change[] = [];
    wanted.forEach((desired, index) => {
      // Null: the file's object has an issue already (it is refused as a whole).
      if (!desired) return;
      const name = nameOf(desired);
      listed.add(key(name));
      const current = byName.get(key(name));
      if (!current) {
        planned.push({
          action: 'create',
          kind,
          name,
          at: [list, index],
          fields: diffFields(null, desired as Record<string, unknown>),
          desired: desired as Record<string, unknown>,
        });
        return;
      }
      if (current.managedBy && current.managedBy !== config.managedBy) {
        issues.push(
          loaded.at(
            [list, index, list === 'users' ? 'email' : 'name'],
            `is managed by another file ("${current.managedBy}"); change it there, or give this file that managedBy`,
          ),
        );
        return;
      }
      const fields = diffFields(asFile(current) as Record<string, unknown>, desired as Record<string, unknown>);
      if (Object.keys(fields).length > 0)
        planned.push({ action: 'update', kind, name, id: current.id, at: [list, index], fields, desired: desired as Record<string, unknown> });
    });
    for (const current of existing) {
      if (listed.has(key(nameOf(current))) || current.managedBy !== config.managedBy) continue;
      if (options.prune)
        planned.push({ action: 'delete', kind, name: nameOf(current), id: current.id, fields: diffFields(asFile(current) as Record<string, unknown>, null) });
      else notInFile.push({ kind, name: nameOf(current) });
    }
    return planned.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  config.accessFlows.forEach((flow, f) =>
    flow.targets.forEach((target, t) => {
      if (!knownIntegrations.has(key(target.integration))) {
        issues.push(loaded.at(['accessFlows', f, 'targets', t, 'integration'], `names no integration in this file or on the server`));
      }
    }),
  );
  config.integrations.forEach((integration, index) => {
    if (!server.types.some((t) => t.type === integration.type)) {
      issues.push(loaded.at(['integrations', index, 'type'], `must be one of the server's integration types: ${server.types.map((t) => t.type).join(', ')}`));
    }
  });
  const webhooks = config.webhooks.map((webhook, index): WebhookAsFile | null => {
    const refused = issues.length;
    webhook.filters?.integrations?.forEach((name, i) => {
      if (!knownIntegrations.has(key(name)))
        issues.push(loaded.at(['webhooks', index, 'filters', 'integrations', i], 'names no integration in this file or on the server'));
    });
    webhook.filters?.flows?.forEach((name, i) => {
      if (!knownFlows.has(key(name))) issues.push(loaded.at(['webhooks', index, 'filters', 'flows', i], 'names no access flow in this file or on the server'));
    });
    const { url, issue } = webhookUrl(loaded, index, env);
    if (issue) issues.push(issue);
    if (!url || issues.length > refused) return null;
    return {
      name: webhook.name,
      url: webhookDisplayUrl(url, webhook.format),
      format: webhook.format,
      events: [...new Set(webhook.events)].sort(),
      filters: filtersOf(webhook.filters?.integrations, webhook.filters?.flows),
      active: webhook.active,
    };
  });

  type Named = { name: string };
  type Emailed = { email: string };
  changes.push(
    ...compare<{ name: string; description: string | null }, Group>(
      'group',
      'groups',
      config.groups.map((g) => ({ name: groupSpelling(g.name), description: g.description ?? null })),
      server.groups,
      (x) => x.name,
      (g) => ({ name: g.name, description: g.description }),
    ),
    ...compare<UserAsFile, User>(
      'user',
      'users',
      config.users.map((u) => userAsFile(u, groupSpelling)),
      server.users,
      (x) => (x as Emailed).email,
      (u) => userAsFile(u, groupSpelling),
    ),
    ...compare<FileIntegration, Integration>(
      'integration',
      'integrations',
      config.integrations.map((f) => integrationAsFile(f, server.types)),
      server.integrations,
      (x) => (x as Named).name,
      (s) => integrationAsFile(s, server.types),
    ),
    ...compare<FileFlow, AccessFlow>(
      'access flow',
      'accessFlows',
      config.accessFlows,
      server.flows,
      (x) => (x as Named).name,
      (s) => flowAsFile(s, integrationNames),
    ),
    ...compare<WebhookAsFile, Webhook>(
      'webhook',
      'webhooks',
      webhooks,
      server.webhooks,
      (x) => x.name,
      (w) => webhookAsFile(w, integrationNames, flowNames),
    ),
  );
  return { plan: { managedBy: config.managedBy, changes, notInFile }, issues };
}

/** The variable an exported webhook's URL is read from when the server shows it masked. */
export const webhookUrlVariable = (name: string): string =>
  `LATCHKEY_WEBHOOK_URL_${name
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')}`;

/** The server's state as a file that `apply` reproduces with an empty plan. */
export function exportFile(
  server: ServerState,
  managedBy: string,
): { file: Record<string, unknown>; skipped: string[]; variables: Array<{ webhook: string; variable: string }> } {
  const integrationNames = new Map(server.integrations.map((i) => [i.id, i.name]));
  const flowNames = new Map(server.flows.map((f) => [f.id, f.name]));
  const byName = (a: { name?: unknown }, b: { name?: unknown }) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0);
  const skipped: string[] = [];
  const variables: Array<{ webhook: string; variable: string }> = [];
  const integrations = server.integrations
    .filter((i) => {
      // Only references belong in a file: an integration whose secret is stored by Latchkey stays out.
      if (i.secret.store === 'builtin') skipped.push(i.name);
      return i.secret.store !== 'builtin';
    })
    .map((i) => withoutEmpty(integrationAsFile(i, server.types)))
    .sort(byName);
  const accessFlows = server.flows.map((f) => flowAsFile(f, integrationNames)).sort(byName);
  const groups = server.groups.map((g) => withoutEmpty({ name: g.name, description: g.description })).sort(byName);
  const users = server.users.map((u) => withoutEmpty({ ...userAsFile(u, (n) => n) })).sort((a, b) => byLower(String(a.email), String(b.email)));
  const webhooks = server.webhooks
    .map((w) => {
      const asFile = webhookAsFile(w, integrationNames, flowNames);
      // A masked URL cannot be written back: the file reads it from a variable instead.
      if (!asFile.url.includes('***')) return withoutEmpty({ ...asFile });
      const variable = webhookUrlVariable(w.name);
      variables.push({ webhook: w.name, variable });
      return withoutEmpty({ ...asFile, url: { env: variable } });
    })
    .sort(byName);
  return { file: { apiVersion: CONFIG_FILE_API_VERSION, managedBy, groups, users, integrations, accessFlows, webhooks }, skipped, variables };
}

export function diffFields(before: Record<string, unknown> | null, after: Record<string, unknown> | null): FieldDiff {
  const diff: FieldDiff = {};
  for (const field of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    const b = before?.[field];
    const a = after?.[field];
    if (before && after && stableJson(b) === stableJson(a)) continue;
    diff[field] = { ...(before ? { before: b } : {}), ...(after ? { after: a } : {}) };
  }
  return diff;
}

/** JSON with object keys sorted and undefined members left out: equal values, equal text. */
export const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  ) ?? 'undefined';

const withoutUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Optional fields at their empty value are left out of an exported file (apply reads them back the same). */
const withoutEmpty = <T extends object>(i: T): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(i).filter(
      ([field, v]) => v !== null && !(Array.isArray(v) && v.length === 0) && !(EMPTY_MAPS_LEFT_OUT.has(field) && Object.keys(v as object).length === 0),
    ),
  );
/** Maps that default to empty in the file (a user's attributes, a webhook's filters). */
const EMPTY_MAPS_LEFT_OUT = new Set(['attributes', 'filters']);
