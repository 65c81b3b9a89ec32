/** SCIM 2.0 wire details (RFC 7643/7644) that need no database: schemas, errors, filters, PATCH. */

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType = 'invalidFilter' | 'uniqueness' | 'invalidValue' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'mutability' | 'tooMany';

/** A refusal in SCIM's error schema; `status` is the HTTP status. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
  }

  body() {
    return { schemas: [SCIM_ERROR], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.detail };
  }
}

/**
 * `attribute eq "value"`: the filters IdPs send to find a user or group before creating it
 * (Okta: userName; Entra: userName, externalId, displayName). Others are 400 invalidFilter.
 */
export function parseEqFilter<A extends string>(filter: string | undefined, attributes: readonly A[]): { attribute: A; value: string } | null {
  if (filter === undefined || filter.trim() === '') return null;
  const match = /^\s*([A-Za-z][\w.:]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!match) throw new ScimError(400, `Only filters of the form 'attribute eq "value"' are supported; got: ${filter.slice(0, 200)}`, 'invalidFilter');
  // A schema-qualified name (urn:...:User:userName) means the same attribute.
  const name = match[1].replace(/^urn:ietf:params:scim:schemas:core:2\.0:(User|Group):/i, '');
  const attribute = attributes.find((a) => a.toLowerCase() === name.toLowerCase());
  if (!attribute) throw new ScimError(400, `Filtering on ${name} is not supported; use one of: ${attributes.join(', ')}.`, 'invalidFilter');
  return { attribute, value: JSON.parse(`"${match[2]}"`) as string };
}

/** startIndex (1-based) and count, as RFC 7644 3.4.2.4 reads them: out-of-range values are clamped, not refused. */
export function pageOf(query: Record<string, string>, maxCount: number): { offset: number; count: number; startIndex: number } {
  const start = Number.parseInt(query.startIndex ?? '1', 10);
  const count = Number.parseInt(query.count ?? String(maxCount), 10);
  const startIndex = Number.isFinite(start) && start > 1 ? start : 1;
  return { startIndex, offset: startIndex - 1, count: Number.isFinite(count) ? Math.min(Math.max(count, 0), maxCount) : maxCount };
}

/** A PATCH operation with its quirks ironed out: op in lower case (Entra sends `Replace`), path as given. */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

export function patchOperations(body: unknown): PatchOperation[] {
  const ops = (body as { Operations?: unknown })?.Operations;
  if (!Array.isArray(ops) || !ops.length) throw new ScimError(400, 'A PATCH body needs Operations: a non-empty list of {op, path?, value?}.', 'invalidSyntax');
  return ops.map((raw, i) => {
    const op = typeof raw?.op === 'string' ? raw.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new ScimError(400, `Operations[${i}].op must be add, replace or remove.`, 'invalidSyntax');
    const path = typeof raw.path === 'string' && raw.path.trim() ? raw.path.trim() : undefined;
    if (op === 'remove' && !path) throw new ScimError(400, `Operations[${i}]: remove needs a path.`, 'noTarget');
    return { op, ...(path ? { path } : {}), ...('value' in raw ? { value: raw.value } : {}) };
  });
}

/** SCIM booleans as IdPs send them: true/false, and Entra's "True"/"False" strings. */
export function scimBoolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimError(400, `${field} must be true or false.`, 'invalidValue');
}

/** The user ids a members value names: [{value: id}, ...]. */
export function memberIds(value: unknown, field = 'members'): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.map((m, i) => {
    const id = typeof m === 'string' ? m : (m as { value?: unknown })?.value;
    if (typeof id !== 'string' || !id) throw new ScimError(400, `${field}[${i}].value must be a user id.`, 'invalidValue');
    return id;
  });
}

/** `members[value eq "id"]`: the id a member path filter names, or null for the plain `members` path. */
export function memberPathId(path: string): string | null {
  if (/^members$/i.test(path)) return null;
  const match = /^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$/i.exec(path);
  if (!match) throw new ScimError(400, `Unsupported path ${path}: use members or members[value eq "<id>"].`, 'invalidPath');
  return match[1];
}
