import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { configFileJsonSchema, DEFAULT_MANAGED_BY } from '@latchkey/contracts';
import type { AccessFlow, AuditEntry, Group, Integration, IntegrationTypeDescription, User, Webhook } from '@latchkey/contracts';
import { ApiError, type ApiClient } from '../api';
import { ConfigFileError, formatIssue, loadConfigFile, sortIssues, type LoadedFile } from '../config-as-code/config-file';
import {
  computePlan,
  exportFile,
  webhookUrl,
  type Change,
  type Kind,
  type Plan,
  type ServerState,
  type UserAsFile,
  type WebhookAsFile,
} from '../config-as-code/plan';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';

interface FileOptions {
  file: string;
  prune?: boolean;
}

/** Registers `plan`, `apply`, `export` and `schema` (config as code) on the program. */
export function registerConfigCommands(root: Command, ctx: () => Context): void {
  const fileOptions = (command: Command) =>
    command
      .requiredOption('-f, --file <path>', 'the config file (YAML or JSON)')
      .option('--prune', 'also delete what this file manages (its managedBy) and no longer lists');

  fileOptions(
    root
      .command('plan')
      .description('show what apply would change on the server (exit 2 when there are changes)')
      .addHelpText(
        'after',
        '\nExamples:\n  latchkey plan -f latchkey.yaml\n  latchkey plan -f latchkey.yaml --prune --output json   # in CI: exit 0 = in sync, 2 = changes',
      ),
  ).action(async (options: FileOptions) => {
    process.exitCode = await plan(ctx(), options);
  });

  fileOptions(
    root
      .command('apply')
      .description('make the server hold what the file says (groups, users, integrations, access flows, webhooks)')
      .addHelpText('after', '\nExamples:\n  latchkey apply -f latchkey.yaml\n  latchkey apply -f latchkey.yaml --prune'),
  ).action(async (options: FileOptions) => {
    await apply(ctx(), options);
  });

  root
    .command('export')
    .description("write the server's groups, users, integrations, access flows and webhooks as a file that apply reproduces")
    .option('-f, --file <path>', 'write to this file (default: standard output)')
    .option('--managed-by <name>', 'the managedBy of the file', DEFAULT_MANAGED_BY)
    .addHelpText('after', '\nExamples:\n  latchkey export > latchkey.yaml\n  latchkey export -f latchkey.yaml && latchkey plan -f latchkey.yaml')
    .action(async (options: { file?: string; managedBy: string }) => {
      await exportState(ctx(), options);
    });

  root
    .command('schema')
    .description('print the JSON Schema of the config file, for editors')
    .addHelpText('after', '\nExample:\n  latchkey schema > latchkey.schema.json   # then: # yaml-language-server: $schema=latchkey.schema.json')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configFileJsonSchema(), null, 2)}\n`);
    });
}

async function readServer(api: ApiClient): Promise<ServerState> {
  const [integrations, flows, types, groups, users, webhooks] = await Promise.all([
    api.all<Integration>('/api/v1/integrations'),
    api.all<AccessFlow>('/api/v1/access-flows'),
    api.get<{ items: IntegrationTypeDescription[] }>('/api/v1/catalog').then((c) => c.items),
    api.all<Group>('/api/v1/groups'),
    api.all<User>('/api/v1/users'),
    api.all<Webhook>('/api/v1/webhooks'),
  ]);
  return { integrations, flows, types, groups, users, webhooks };
}

/** Where each kind lives in the API, and how the audit log names it. */
const API: Record<Kind, { base: string; targetType: string }> = {
  group: { base: '/api/v1/groups', targetType: 'group' },
  user: { base: '/api/v1/users', targetType: 'user' },
  integration: { base: '/api/v1/integrations', targetType: 'integration' },
  'access flow': { base: '/api/v1/access-flows', targetType: 'access-flow' },
  webhook: { base: '/api/v1/webhooks', targetType: 'webhook' },
};
/** Created and updated in this order (later kinds name earlier ones), deleted in the reverse. */
const KIND_ORDER: Kind[] = ['group', 'user', 'integration', 'access flow', 'webhook'];

/** The file read and checked (schema, then what needs the server), the server read, the plan made. */
async function planFor(ctx: Context, options: FileOptions): Promise<{ api: ApiClient; loaded: LoadedFile; server: ServerState; plan: Plan }> {
  const loaded = loadConfigFile(options.file);
  const api = ctx.api();
  const server = await readServer(api);
  const { plan, issues } = computePlan(loaded, server, { prune: Boolean(options.prune) });
  if (issues.length > 0) throw new ConfigFileError(sortIssues(issues));
  await markDrift(api, plan, server);
  return { api, loaded, server, plan };
}

/**
 * An update of an object this file manages whose last change (in the audit log) was not made by
 * the CLI: someone changed it elsewhere (the console, the API) since the last apply.
 */
async function markDrift(api: ApiClient, plan: Plan, server: ServerState): Promise<void> {
  for (const change of plan.changes) {
    if (change.action !== 'update') continue;
    const all: Array<{ id: string; managedBy?: string | null }> = [
      ...server.groups,
      ...server.users,
      ...server.integrations,
      ...server.flows,
      ...server.webhooks,
    ];
    const current = all.find((o) => o.id === change.id);
    if (current?.managedBy !== plan.managedBy) continue;
    const { targetType } = API[change.kind];
    const last = (await api.get<{ items: AuditEntry[] }>(`/api/v1/audit?targetType=${targetType}&targetId=${change.id}&pageSize=1`)).items[0];
    if (last && last.actor.source !== 'cli') change.drift = { by: last.actor.email ?? last.actor.id, at: last.at };
  }
}

const SYMBOL = { create: '+', update: '~', delete: '-' } as const;

function renderPlan(plan: Plan, file: string): string {
  const lines: string[] = [];
  for (const change of plan.changes) {
    const drift = change.drift ? `  (drift: changed outside ${file} by ${change.drift.by} at ${change.drift.at})` : '';
    lines.push(`${SYMBOL[change.action]} ${change.kind} "${change.name}"${drift}`);
    if (change.action === 'update') {
      for (const [field, { before, after }] of Object.entries(change.fields)) lines.push(`    ${field}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    }
  }
  for (const kept of plan.notInFile) lines.push(`  ${kept.kind} "${kept.name}" is managed by this file but not in it: kept (--prune deletes it)`);
  const count = (action: Change['action']) => plan.changes.filter((c) => c.action === action).length;
  lines.push(
    plan.changes.length === 0
      ? 'No changes: the server matches the file.'
      : `Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete.`,
  );
  return lines.join('\n');
}

async function plan(ctx: Context, options: FileOptions): Promise<number> {
  const { plan } = await planFor(ctx, options);
  ctx.out.result(plan, () => renderPlan(plan, options.file));
  return plan.changes.length > 0 ? ExitCode.Changes : ExitCode.Ok;
}

/**
 * Creates and updates groups, then users, integrations, flows and webhooks (each names the ones
 * before it); deletes in the reverse order. Every object written carries the file's managedBy.
 * A webhook's signing secret is made by the server and shown once, in the create answer: apply
 * prints it then (stdout), and never again.
 */
async function apply(ctx: Context, options: FileOptions): Promise<void> {
  const { api, plan, server, loaded } = await planFor(ctx, options);
  const ids = {
    integration: new Map(server.integrations.map((i) => [i.name.toLowerCase(), i.id])),
    flow: new Map(server.flows.map((f) => [f.name.toLowerCase(), f.id])),
  };
  const done: Array<{ action: Change['action']; kind: Change['kind']; name: string; id: string; signingSecret?: string }> = [];
  const order = (c: Change) => (c.action === 'delete' ? 2 * KIND_ORDER.length - KIND_ORDER.indexOf(c.kind) : KIND_ORDER.indexOf(c.kind));
  for (const change of [...plan.changes].sort((a, b) => order(a) - order(b))) {
    ctx.out.info(`${SYMBOL[change.action]} ${change.kind} "${change.name}"`);
    const { base } = API[change.kind];
    let id = change.id!;
    let signingSecret: string | undefined;
    try {
      if (change.action === 'delete') await api.delete(`${base}/${id}`);
      else if (change.kind === 'user') id = await applyUser(api, change, plan.managedBy);
      else {
        const body = bodyOf(change, ids, plan.managedBy, loaded);
        const answer =
          change.action === 'create'
            ? await api.post<{ id: string; secret?: string }>(base, body)
            : await api.put<{ id: string; secret?: string }>(`${base}/${id}`, body);
        id = answer.id;
        signingSecret = answer.secret;
        if (change.kind === 'integration') ids.integration.set(change.name.toLowerCase(), id);
        if (change.kind === 'access flow') ids.flow.set(change.name.toLowerCase(), id);
      }
    } catch (err) {
      throw refusal(err, change, loaded, done.length);
    }
    done.push({ action: change.action, kind: change.kind, name: change.name, id, ...(signingSecret ? { signingSecret } : {}) });
  }
  ctx.out.result({ managedBy: plan.managedBy, applied: done }, () => {
    if (done.length === 0) return 'No changes: the server matches the file.';
    const secrets = done
      .filter((d) => d.signingSecret)
      .map((d) => `Signing secret of webhook "${d.name}" (shown this once; POST /api/v1/webhooks/${d.id}/rotate-secret makes a new one): ${d.signingSecret}`);
    return [`Applied ${done.length} change${done.length === 1 ? '' : 's'}.`, ...secrets].join('\n');
  });
}

/** A user: their fields with PUT/POST (when any differs), then deactivate or reactivate (the API's own steps) when `active` differs. */
async function applyUser(api: ApiClient, change: Change, managedBy: string): Promise<string> {
  const { active, ...fields } = change.desired as unknown as UserAsFile;
  const body = { ...fields, managedBy };
  let id = change.id;
  if (!id) id = (await api.post<{ id: string }>('/api/v1/users', body)).id;
  else if (Object.keys(change.fields).some((f) => f !== 'active')) await api.put(`/api/v1/users/${id}`, body);
  if (change.action === 'create' ? !active : 'active' in change.fields) await api.post(`/api/v1/users/${id}/${active ? 'reactivate' : 'deactivate'}`);
  return id;
}

/** The server refused a change: its issues at their lines in the file, and what was already done. */
function refusal(err: unknown, change: Change, loaded: LoadedFile, applied: number): unknown {
  const issues = err instanceof ApiError ? err.body.details?.issues : undefined;
  if (!issues || !change.at) return err;
  const located = issues.map((issue) => {
    // The API names a target's integration by id; the file by name.
    const path = issue.field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part === 'integrationId' ? 'integration' : part));
    return loaded.at([...change.at!, ...path], issue.rule);
  });
  return new CliError(
    `the server refused ${change.action === 'create' ? 'to create' : 'to update'} ${change.kind} "${change.name}" (${applied} change${applied === 1 ? '' : 's'} before it ${applied === 1 ? 'was' : 'were'} applied; run plan again):\n${located.map(formatIssue).join('\n')}`,
    ExitCode.Failure,
    { issues: located },
  );
}

function bodyOf(
  change: Change,
  ids: { integration: Map<string, string>; flow: Map<string, string> },
  managedBy: string,
  loaded: LoadedFile,
): Record<string, unknown> {
  const desired = change.desired as Record<string, unknown>;
  const idOf = (names: Map<string, string>) => (name: string) => names.get(name.toLowerCase()) ?? name;
  if (change.kind === 'group') {
    const { name, description } = desired;
    return { name, ...(description !== null ? { description } : {}), managedBy };
  }
  if (change.kind === 'webhook') {
    // The URL as the file gives it (read from its variable now), not the masked one compared.
    const { filters, ...rest } = desired as unknown as WebhookAsFile;
    const url = webhookUrl(loaded, change.at![1], process.env).url;
    const byId = {
      ...(filters.integrations ? { integrationIds: filters.integrations.map(idOf(ids.integration)) } : {}),
      ...(filters.flows ? { flowIds: filters.flows.map(idOf(ids.flow)) } : {}),
    };
    return { ...rest, url, filters: byId, managedBy };
  }
  const integrationIds = ids.integration;
  if (change.kind === 'integration') {
    // The stored secret is kept unless the file changes its reference.
    const { secret, ...rest } = desired;
    return { ...rest, ...(change.action === 'create' || change.fields.secret ? { secret } : {}), managedBy };
  }
  const targets = (desired.targets as Array<{ integration: string }>).map(({ integration, ...target }) => ({
    integrationId: integrationIds.get(integration.toLowerCase()) ?? integration,
    ...target,
  }));
  return { ...desired, targets, managedBy };
}

async function exportState(ctx: Context, options: { file?: string; managedBy: string }): Promise<void> {
  const server = await readServer(ctx.api());
  const { file, skipped, variables } = exportFile(server, options.managedBy);
  for (const name of skipped)
    ctx.out.warn(`integration "${name}" keeps its secret in Latchkey's built-in store, which a file cannot hold: left out (flows may still name it)`);
  for (const { webhook, variable } of variables)
    ctx.out.warn(
      `webhook "${webhook}" has a URL with a secret in it, which the server shows masked: the file reads it from ${variable}; set that variable to the URL before plan or apply`,
    );
  const text = ctx.out.json ? `${JSON.stringify(file, null, 2)}\n` : stringify(file, { lineWidth: 0 });
  if (options.file) {
    writeFileSync(options.file, text);
    ctx.out.info(`Wrote ${options.file}`);
  } else process.stdout.write(text);
}
