import { ROUTES } from './openapi';

const ROUTE_PATTERNS = ROUTES.map((route) => ({
  method: route.method.toUpperCase(),
  pattern: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}/?$`),
}));

/** The methods a path answers (GET implies HEAD), from the route table; empty when no route has this path. */
export function allowedMethods(path: string): string[] {
  const methods = new Set(ROUTE_PATTERNS.filter((r) => r.pattern.test(path)).map((r) => r.method));
  if (methods.has('GET')) methods.add('HEAD');
  return ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => methods.has(m));
}
