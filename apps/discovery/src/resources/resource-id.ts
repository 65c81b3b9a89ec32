import { createHash } from 'node:crypto';
import type { ResourceKind } from '@latchkey/contracts';

/** Namespace of resource ids (RFC 9562 name-based ids are unique per namespace). */
const RESOURCE_NAMESPACE = Buffer.from('6f1c2a3e9b7d4e0a8c5f1d2e3b4a5c6d', 'hex');

export interface ResourceKey {
  integrationId: string;
  kind: ResourceKind;
  database?: string;
  schema?: string;
  name: string;
}

/**
 * The resource's id: a UUID version 5 of its integration, kind and exact path, so that a table
 * keeps its id across refreshes (and after Latchkey loses its inventory) without a lookup. A
 * renamed object is a new resource. Names cannot hold NUL, so NUL separates the parts unambiguously.
 */
export function resourceId(key: ResourceKey): string {
  const name = [key.integrationId, key.kind, key.database ?? '', key.schema ?? '', key.name].join('\0');
  const hash = createHash('sha1').update(RESOURCE_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `database/schema/name`, each part exactly as PostgreSQL names it; roles and databases are their name. */
export function resourcePath(key: Pick<ResourceKey, 'database' | 'schema' | 'name'>): string {
  return [key.database, key.schema, key.name].filter((part) => part !== undefined).join('/');
}
