export type GrantErrorCode =
  /** The item does not name a resource and permission Latchkey can grant. */
  | 'invalid_item'
  /** A database object or role the grant names does not exist. */
  | 'not_found'
  /** The role exists but Latchkey did not create it: it is left alone. */
  | 'not_managed'
  /** A role with Latchkey's name for a profile exists and is something else. */
  | 'name_conflict'
  /** The connector user lacks a privilege; `fix` holds the SQL an administrator runs. */
  | 'missing_privilege'
  /** Sessions of the role were still alive after they were terminated. */
  | 'sessions_survive';

/** A grant or revocation the target refused for a reason retrying will not fix. */
export class GrantError extends Error {
  override readonly name = 'GrantError';

  constructor(
    readonly code: GrantErrorCode,
    message: string,
    readonly fix?: string,
    /** For `missing_privilege`: the role or privilege the connector lacks, so callers need not read `fix`. */
    readonly privilege?: string,
  ) {
    super(message);
  }
}
