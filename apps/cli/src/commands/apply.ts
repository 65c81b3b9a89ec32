import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { configFileJsonSchema, DEFAULT_MANAGED_BY } from '@latchkey/contracts';
import type { AccessFlow, AuditEntry, Integration, IntegrationTypeDescription } from '@latchkey/contracts';
import { ApiError, type ApiClient } from '../api';
import { ConfigFileError, formatIssue, loadConfigFile, sortIssues, type LoadedFile } from '../config-as-code/config-file';
import { computePlan, exportFile, type Change, type Plan, type ServerState } from '../config-as-code/plan';
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
      .addHelpText('after', '\nExamples:\n  latchkey plan -f latchkey.yaml\n  latchkey plan -f latchkey.yaml --prune --output json   # in CI: exit 0 = in sync, 2 = changes'),
  ).action(async (options: FileOptions) => {
    process.exitCode = await plan(ctx(), options);
  });

  fileOptions(
    root
      .command('apply')
      .description('make the server hold what the file says (integrations, access flows)')
      .addHelpText('after', '\nExamples:\n  latchkey apply -f latchkey.yaml\n  latchkey apply -f latchkey.yaml --prune'),
  ).action(async (options: FileOptions) => {
    await apply(ctx(), options);
  });

  root
    .command('export')
    .description("write the server's integrations and access flows as a file that apply reproduces")
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
  const [integrations, flows, types] = await Promise.all([
    api.all<Integration>('/api/v1/integrations'),
    api.all<AccessFlow>('/api/v1/access-flows'),
    api.get<{ items: IntegrationTypeDescription[] }>('/api/v1/catalog').then((c) => c.items),
  ]);
  return { integrations, flows, types };
}

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
    const current = change.kind === 'integration' ? server.integrations.find((i) => i.id === change.id) : server.flows.find((f) => f.id === change.id);
    if (current?.managedBy !== plan.managedBy) continue;
    const targetType = change.kind === 'integration' ? 'integration' : 'access-flow';
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
  lines.push(plan.changes.length === 0 ? 'No changes: the server matches the file.' : `Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete.`);
  return lines.join('\n');
}

async function plan(ctx: Context, options: FileOptions): Promise<number> {
  const { plan } = await planFor(ctx, options);
  ctx.out.result(plan, () => renderPlan(plan, options.file));
  return plan.changes.length > 0 ? ExitCode.Changes : ExitCode.Ok;
}

/**
 * Creates and updates integrations first (flows name them), then flows; deletes flows before
 * integrations. Every object written carries the file's managedBy.
 */
async function apply(ctx: Context, options: FileOptions): Promise<void> {
  const { api, plan, server, loaded } = await planFor(ctx, options);
  const integrationIds = new Map(server.integrations.map((i) => [i.name.toLowerCase(), i.id]));
  const done: Array<{ action: Change['action']; kind: Change['kind']; name: string; id: string }> = [];
  const order = (c: Change) => (c.action === 'delete' ? (c.kind === 'access flow' ? 2 : 3) : c.kind === 'integration' ? 0 : 1);
  for (const change of [...plan.changes].sort((a, b) => order(a) - order(b))) {
    ctx.out.info(`${SYMBOL[change.action]} ${change.kind} "${change.name}"`);
    const base = change.kind === 'integration' ? '/api/v1/integrations' : '/api/v1/access-flows';
    let id = change.id!;
    try {
      if (change.action === 'delete') await api.delete(`${base}/${id}`);
      else {
        const body = bodyOf(change, integrationIds, plan.managedBy);
        id = (change.action === 'create' ? await api.post<{ id: string }>(base, body) : await api.put<{ id: string }>(`${base}/${id}`, body)).id;
        if (change.kind === 'integration') integrationIds.set(change.name.toLowerCase(), id);
      }
    } catch (err) {
      throw refusal(err, change, loaded, done.length);
    }
    done.push({ action: change.action, kind: change.kind, name: change.name, id });
  }
  ctx.out.result({ managedBy: plan.managedBy, applied: done }, () => (done.length === 0 ? 'No changes: the server matches the file.' : `Applied ${done.length} change${done.length === 1 ? '' : 's'}.`));
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

function bodyOf(change: Change, integrationIds: Map<string, string>, managedBy: string): Record<string, unknown> {
  const desired = change.desired as Record<string, unknown>;
  if (change.kind === 'integration') {
    // The stored secret is kept unless the file changes its reference.
    const { secret, ...rest } = desired;
    return { ...rest, ...(change.action === 'create' || change.fields.secret ? { secret } : {}), managedBy };
  }
  const targets = (desired.targets as Array<{ integration: string }>).map(({ integration, ...target }) => ({ integrationId: integrationIds.get(integration.toLowerCase()) ?? integration, ...target }));
  return { ...desired, targets, managedBy };
}

async function exportState(ctx: Context, options: { file?: string; managedBy: string }): Promise<void> {
  const server = await readServer(ctx.api());
  const { file, skipped } = exportFile(server, options.managedBy);
  for (const name of skipped) ctx.out.warn(`integration "${name}" keeps its secret in Latchkey's built-in store, which a file cannot hold: left out (flows may still name it)`);
  const text = ctx.out.json ? `${JSON.stringify(file, null, 2)}\n` : stringify(file, { lineWidth: 0 });
  if (options.file) {
    writeFileSync(options.file, text);
    ctx.out.info(`Wrote ${options.file}`);
  } else process.stdout.write(text);
}
