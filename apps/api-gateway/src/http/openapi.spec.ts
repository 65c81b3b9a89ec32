import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ACCESS_KEY } from '../auth/auth.guard';
import { HTTP_CONTROLLERS } from './controllers';
import { openApiDocument, ROUTES } from './openapi';

const CONTROLLERS = HTTP_CONTROLLERS;

/** The routes NestJS will serve, read from the controllers' own decorators. */
function servedRoutes() {
  const routes: Array<{ method: string; path: string; access: string }> = [];
  for (const controller of CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, object>)[name];
      const method = Reflect.getMetadata(METHOD_METADATA, handler);
      if (method === undefined) continue;
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      routes.push({ method: RequestMethod[method].toLowerCase(), path, access: Reflect.getMetadata(ACCESS_KEY, handler) });
    }
  }
  return routes;
}

describe('OpenAPI document', () => {
  it('lists exactly the routes the controllers serve, with their access rule', () => {
    const documented = ROUTES.map((r) => ({ method: r.method, path: r.path, access: r.access }));
    const sort = (a: { method: string; path: string }, b: { method: string; path: string }) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`);
    expect(servedRoutes().sort(sort)).toEqual(documented.sort(sort));
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
});
