import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { z } from 'zod';
import { ACCESS_KEY } from '../auth/auth.guard';
import { NO_STORE_KEY } from './no-store';
import { HTTP_CONTROLLERS } from './controllers';
import { openApiDocument, ROUTES } from './openapi';

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
      routes.push({ method: RequestMethod[method].toLowerCase(), path, access: Reflect.getMetadata(ACCESS_KEY, handler), noStore: Reflect.getMetadata(NO_STORE_KEY, handler) === true });
    }
  }
  return routes;
}

describe('OpenAPI document', () => {
  it('lists exactly the routes the controllers serve, with their access rule', () => {
    const documented = ROUTES.map((r) => ({ method: r.method, path: r.path, access: r.access }));
    const sort = (a: { method: string; path: string }, b: { method: string; path: string }) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`);
    expect(servedRoutes().map(({ noStore: _, ...r }) => r).sort(sort)).toEqual(documented.sort(sort));
  });

  it('declares an access rule on every route', () => {
    for (const route of servedRoutes()) expect(['public', 'authenticated', 'admin']).toContain(route.access);
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
      if (properties && ('password' in properties || 'token' in properties)) return true;
      return Object.values(node).some(hasSecretField);
    };
    const carriesSecret = ROUTES.filter((r) => r.response && hasSecretField(z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' }))).map((r) => `${r.method} ${r.path}`);
    expect(carriesSecret.sort()).toEqual([
      'get /api/v1/access-requests/{id}/access-details',
      'post /api/v1/access-requests/{id}/reset-credentials',
      'post /api/v1/integrations/{id}/grants',
      'post /api/v1/integrations/{id}/grants/{grantId}/reset-credentials',
      'post /api/v1/tokens',
    ]);
    const noStore = servedRoutes().filter((r) => r.noStore).map((r) => `${r.method} ${r.path}`);
    expect(noStore.sort()).toEqual(carriesSecret.sort());
  });
});
