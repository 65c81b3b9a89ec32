import { ConfigAccessFlow, CONFIG_FILE_API_VERSION } from '@latchkey/contracts';
import type { AccessFlow, ConfigFile, Integration, IntegrationTypeDescription } from '@latchkey/contracts';
import type { FileIssue, LoadedFile } from './config-file';

/** What the server holds, as the admin API answers it. */
export interface ServerState {
  integrations: Integration[];
  flows: AccessFlow[];
  types: IntegrationTypeDescription[];
}

export type Kind = 'integration' | 'access flow';
type FileIntegration = ConfigFile['integrations'][number];
type FileFlow = ConfigFile['accessFlows'][number];
export type FieldDiff = Record<string, { before?: unknown; after?: unknown }>;

export interface Change {
  action: 'create' | 'update' | 'delete';
  kind: Kind;
  name: string;
  /** The server's id (update, delete). */
  id?: string;
  /** The fields that differ: the server's value (before) and the file's (after). */
  fields: FieldDiff;
  /** Where the object is in the file (create, update). */
  at?: ['integrations' | 'accessFlows', number];
  /** The object as the file wants it, in the API's terms (create, update). */
  desired?: FileIntegration | FileFlow;
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

/**
 * The changes that make the server hold what the file says, in a stable order (integrations,
 * then flows, each by name). Objects the file does not list are left alone, except those it
 * manages, which `--prune` deletes. Refuses (as file issues) targets naming an integration that
 * neither the file nor the server has, and objects another file manages.
 */
export function computePlan(loaded: LoadedFile, server: ServerState, options: { prune: boolean }): { plan: Plan; issues: FileIssue[] } {
  const { config } = loaded;
  const issues: FileIssue[] = [];
  const changes: Change[] = [];
  const notInFile: Plan['notInFile'] = [];
  const key = (name: string) => name.toLowerCase();
  const integrationNames = new Map(server.integrations.map((i) => [i.id, i.name]));
  const knownIntegrations = new Set([...server.integrations.map((i) => key(i.name)), ...config.integrations.map((i) => key(i.name))]);

  const compare = <F extends object, S extends { id: string; name: string; managedBy?: string | null }>(
    kind: Kind,
    list: 'integrations' | 'accessFlows',
    wanted: F[],
    existing: S[],
    asFile: (s: S) => F,
    normalize: (f: F) => F,
  ) => {
    const byName = new Map(existing.map((s) => [key(s.name), s]));
    const listed = new Set<string>();
    const planned: Change[] = [];
    wanted.forEach((item, index) => {
      const desired = normalize(item);
      const name = (desired as { name: string }).name;
      listed.add(key(name));
      const current = byName.get(key(name));
      if (!current) {
        planned.push({ action: 'create', kind, name, at: [list, index], fields: diffFields(null, desired as Record<string, unknown>), desired: desired as Change['desired'] });
        return;
      }
      if (current.managedBy && current.managedBy !== config.managedBy) {
        issues.push(loaded.at([list, index, 'name'], `is managed by another file ("${current.managedBy}"); change it there, or give this file that managedBy`));
        return;
      }
      const fields = diffFields(asFile(current) as Record<string, unknown>, desired as Record<string, unknown>);
      if (Object.keys(fields).length > 0) planned.push({ action: 'update', kind, name, id: current.id, at: [list, index], fields, desired: desired as Change['desired'] });
    });
    for (const current of existing) {
      if (listed.has(key(current.name)) || current.managedBy !== config.managedBy) continue;
      if (options.prune) planned.push({ action: 'delete', kind, name: current.name, id: current.id, fields: diffFields(asFile(current) as Record<string, unknown>, null) });
      else notInFile.push({ kind, name: current.name });
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

  changes.push(
    ...compare('integration', 'integrations', config.integrations, server.integrations, (s) => integrationAsFile(s, server.types), (f) => integrationAsFile(f, server.types)),
    ...compare('access flow', 'accessFlows', config.accessFlows, server.flows, (s) => flowAsFile(s, integrationNames), (f) => f),
  );
  return { plan: { managedBy: config.managedBy, changes, notInFile }, issues };
}

/** The server's state as a file that `apply` reproduces with an empty plan. */
export function exportFile(server: ServerState, managedBy: string): { file: Record<string, unknown>; skipped: string[] } {
  const integrationNames = new Map(server.integrations.map((i) => [i.id, i.name]));
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const skipped: string[] = [];
  const integrations = server.integrations
    .filter((i) => {
      // Only references belong in a file: an integration whose secret is stored by Latchkey stays out.
      if (i.secret.store === 'builtin') skipped.push(i.name);
      return i.secret.store !== 'builtin';
    })
    .map((i) => withoutEmpty(integrationAsFile(i, server.types)))
    .sort(byName);
  const accessFlows = server.flows.map((f) => flowAsFile(f, integrationNames)).sort(byName);
  return { file: { apiVersion: CONFIG_FILE_API_VERSION, managedBy, integrations, accessFlows }, skipped };
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
  JSON.stringify(value, (_, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v)) ??
  'undefined';

const withoutUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Optional fields at their empty value are left out of an exported file (apply reads them back the same). */
const withoutEmpty = (i: FileIntegration) => Object.fromEntries(Object.entries(i).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))) as FileIntegration;
