import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { z } from 'zod';
import { ACCESS_KEY } from '../auth/auth.guard';
import { NO_STORE_KEY } from './no-store';
import { HTTP_CONTROLLERS } from './controllers';
import { REPO_ROOT } from '@latchkey/testing';
import { openApiDocument, OPERATIONS, ROUTES } from './openapi';

const CONTROLLERS = HTTP_CONTROLLERS;

/** The routes NestJS will serve, read from the controllers' own decorators. */
function servedRoutes() {
  const routes: Array<{ method: string; path: string; access: string; noStore: boolean }> = [];
  for (const controller of CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, object>)[name];
      const method = Reflect.getMetadata(METHOD_METADATA, handler);
      if (method === undefined) continue;
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      routes.push({
        method: RequestMethod[method].toLowerCase(),
        path,
        access: Reflect.getMetadata(ACCESS_KEY, handler),
        noStore: Reflect.getMetadata(NO_STORE_KEY, handler) === true,
      });
    }
  }
  return routes;
}

describe('OpenAPI document', () => {
  it('lists exactly the routes the controllers serve, with their access rule', () => {
    const documented = ROUTES.map((r) => ({ method: r.method, path: r.path, access: r.access }));
    const sort = (a: { method: string; path: string }, b: { method: string; path: string }) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`);
    expect(
      servedRoutes()
        .map(({ noStore: _, ...r }) => r)
        .sort(sort),
    ).toEqual(documented.sort(sort));
  });

  it('declares an access rule on every route', () => {
    for (const route of servedRoutes()) expect(['public', 'authenticated', 'admin', 'scim']).toContain(route.access);
  });

  it('builds an OpenAPI 3.1 document with the integration body schema', () => {
    const doc = openApiDocument('1.3.0') as any;
    expect(doc.openapi).toBe('3.1.0');
    const create = doc.paths['/api/v1/integrations'].post;
    expect(create.requestBody.content['application/json'].schema.properties.config.properties.sslmode.default).toBe('prefer');
    expect(create.responses).toHaveProperty('201');
    expect(create.responses).toHaveProperty('403');
  });

  it('marks every answer carrying a password or a new token Cache-Control: no-store, and only those', () => {
    const hasSecretField = (schema: unknown): boolean => {
      if (Array.isArray(schema)) return schema.some(hasSecretField);
      if (typeof schema !== 'object' || schema === null) return false;
      const node = schema as Record<string, unknown>;
      const properties = node.properties as Record<string, unknown> | undefined;
      if (properties && ('password' in properties || 'token' in properties || 'sealedToken' in properties)) return true;
      return Object.values(node).some(hasSecretField);
    };
    const carriesSecret = ROUTES.filter((r) => r.response && hasSecretField(z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' }))).map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(carriesSecret.sort()).toEqual([
      'get /api/v1/access-requests/{id}/access-details',
      'post /api/v1/access-requests',
      'post /api/v1/access-requests/{id}/reset-credentials',
      'post /api/v1/auth/cli-tokens',
      'post /api/v1/integrations/{id}/grants',
      'post /api/v1/integrations/{id}/grants/{grantId}/reset-credentials',
      'post /api/v1/scim-tokens',
      'post /api/v1/tokens',
    ]);
    const noStore = servedRoutes()
      .filter((r) => r.noStore)
      .map((r) => `${r.method} ${r.path}`);
    expect(noStore.sort()).toEqual(carriesSecret.sort());
  });
  const doc = openApiDocument('1.3.0') as any;
  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ route: `${method} ${path}`, ...op })),
    );

  it('gives every operation a unique operationId and a tag the document declares', () => {
    const ops = operations();
    expect(ops).toHaveLength(ROUTES.length);
    expect(Object.keys(OPERATIONS).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
    const declared = doc.tags.map((t: { name: string }) => t.name);
    for (const op of ops) {
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags).toHaveLength(1);
      expect(declared).toContain(op.tags[0]);
    }
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('types query parameters from the schema the controller parses them with, enums included', () => {
    const params = (route: string) =>
      Object.fromEntries(
        operations()
          .find((o) => o.route === route)!
          .parameters.filter((p: any) => p.in === 'query')
          .map((p: any) => [p.name, p.schema]),
      );
    const requests = params('get /api/v1/access-requests');
    expect(requests.status.enum).toEqual(['PENDING', 'APPROVED', 'GRANTED', 'REVOKING', 'EXPIRED', 'REVOKED', 'REJECTED', 'FAILED']);
    expect(requests.awaitingMyApproval.enum).toEqual(['true', 'false']);
    expect(requests.from).toMatchObject({ type: 'string', format: 'date-time' });
    expect(requests.pageSize).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
    expect(params('get /api/v1/resources').type.enum).toEqual(expect.arrayContaining(['postgresql-database', 'postgresql-table']));
    expect(params('get /api/v1/audit').format.enum).toEqual(['json', 'csv']);
    expect(Object.keys(params('get /api/v1/integrations/{id}/grants'))).toEqual(['status', 'pageSize', 'pageToken']);
    for (const op of operations()) for (const p of op.parameters ?? []) expect(p.schema.type).toBeDefined();
  });

  it('documents the CSV answer of the audit export', () => {
    const list = operations().find((o) => o.route === 'get /api/v1/audit')!;
    expect(Object.keys(list.responses['200'].content)).toEqual(['application/json', 'text/csv']);
  });

  it('passes @redocly/cli lint with the recommended rules, offline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      for (const file of ['redocly.yaml', '.redocly.lint-ignore.yaml']) copyFileSync(join(REPO_ROOT, 'apps/api-gateway/redocly', file), join(dir, file));
      const cli = join(REPO_ROOT, 'node_modules/@redocly/cli/bin/cli.js');
      const run = spawnSync(
        process.execPath,
        ['--require', join(REPO_ROOT, 'tools/lint/offline.cjs'), cli, 'lint', '--config', 'redocly.yaml', 'openapi.json'],
        {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: dir, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
          timeout: 90_000,
        },
      );
      const output = `${run.stdout}${run.stderr}`;
      expect(output).not.toContain('network attempt');
      expect(output).toContain('Woohoo! Your API description is valid.');
      expect(output).not.toMatch(/warning|error/i);
      expect(output).toContain('7 problems are explicitly ignored.');
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
