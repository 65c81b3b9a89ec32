// One folder layout for every service (README "One shape for every service"): checked here so a new
// service, or a new file in an old one, is born in it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');
/** The NestJS services (apps/web is the browser app, apps/cli the command line). */
const services = readdirSync(join(root, 'apps')).filter((app) => !['web', 'cli'].includes(app) && existsSync(join(root, 'apps', app, 'src/main.ts')));

function filesOf(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesOf(path) : [path];
  });
}
const production = (app: string) => filesOf(join(root, 'apps', app, 'src')).filter((f) => f.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(f));
const rel = (f: string) => relative(root, f);

describe('every service has the same layout', () => {
  it('finds the seven services', () => {
    expect(services.sort()).toEqual(['access', 'api-gateway', 'discovery', 'integration-catalog', 'notifications', 'provisioning', 'rotation']);
  });

  it.each(services)('%s: src/main.ts and one root module src/<name>.module.ts', (app) => {
    const modules = readdirSync(join(root, 'apps', app, 'src')).filter((f) => f.endsWith('.module.ts'));
    expect(modules).toHaveLength(1);
    expect(readFileSync(join(root, 'apps', app, 'src/main.ts'), 'utf8')).toContain(modules[0].replace(/\.ts$/, ''));
  });

  it.each(services)('%s: migrations only in src/migrations, each listed in its index, named <timestamp>-<Name> with class <Name><timestamp>', (app) => {
    const files = production(app);
    const elsewhere = files.filter((f) => /\/migrations\//.test(f) && !rel(f).startsWith(`apps/${app}/src/migrations/`));
    expect(elsewhere.map(rel)).toEqual([]);
    const migrations = files.filter((f) => rel(f).startsWith(`apps/${app}/src/migrations/`) && !f.endsWith('/index.ts'));
    if (migrations.length === 0) return;
    const index = readFileSync(join(root, 'apps', app, 'src/migrations/index.ts'), 'utf8');
    // The names in `export const MIGRATIONS = [...]`, however the formatter lays the array out.
    const listed = new Set((/export const MIGRATIONS = \[([^\]]*)\]/.exec(index)?.[1] ?? '').split(',').map((n) => n.trim()));
    for (const file of migrations) {
      const [, stamp, name] = /\/(\d{13})-([A-Z][A-Za-z0-9]+)\.ts$/.exec(file) ?? [];
      expect({ file: rel(file), named: Boolean(stamp) }).toEqual({ file: rel(file), named: true });
      expect(readFileSync(file, 'utf8')).toContain(`export class ${name}${stamp} implements MigrationInterface`);
      expect({
        file: rel(file),
        listed: index.includes(`import { ${name}${stamp} } from './${stamp}-${name}';`) && listed.has(`${name}${stamp}`),
      }).toEqual({ file: rel(file), listed: true });
    }
  });

  it('gives every migration of the control database its own timestamp', () => {
    const stamps = services.flatMap((app) =>
      production(app)
        .map((f) => /\/migrations\/(\d{13})-/.exec(f)?.[1])
        .filter((s): s is string => Boolean(s)),
    );
    expect(stamps.filter((s, i) => stamps.indexOf(s) !== i)).toEqual([]);
  });

  it.each(services)('%s: controllers, entities, queues, workers and modules live in files named for them', (app) => {
    const misplaced: string[] = [];
    for (const file of production(app)) {
      const source = readFileSync(file, 'utf8');
      if (/@Controller\(/.test(source) && !/\.(rpc|http)\.controller\.ts$/.test(file))
        misplaced.push(`${rel(file)}: a controller outside *.rpc.controller.ts / *.http.controller.ts`);
      if (/@Entity\(/.test(source) && !file.endsWith('.entity.ts')) misplaced.push(`${rel(file)}: an entity outside *.entity.ts`);
      if (/\bdefineQueue\b/.test(source) && !file.endsWith('.queue.ts')) misplaced.push(`${rel(file)}: a queue definition outside *.queue.ts`);
      if (/\bextends QueueProcessor\b/.test(source) && !file.endsWith('.processor.ts')) misplaced.push(`${rel(file)}: a BullMQ worker outside *.processor.ts`);
      if (/from 'bullmq'/.test(source))
        misplaced.push(`${rel(file)}: BullMQ used directly (a queue's host in libs/queues owns its queue, worker and connection)`);
      if (/@Module\(/.test(source) && !file.endsWith('.module.ts')) misplaced.push(`${rel(file)}: a Nest module outside *.module.ts`);
      if (/\.rpc\.controller\.ts$/.test(file) && app === 'api-gateway') misplaced.push(`${rel(file)}: the gateway answers HTTP (*.http.controller.ts)`);
      if (/\.http\.controller\.ts$/.test(file) && app !== 'api-gateway') misplaced.push(`${rel(file)}: only the gateway answers HTTP`);
    }
    expect(misplaced).toEqual([]);
  });
});
