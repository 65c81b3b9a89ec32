import type { GrantItem, PersonIdentity as ContractIdentity } from '@latchkey/contracts';

/** The person a personal login role stands for (the contract's shape). */
export type PersonIdentity = ContractIdentity;

/** One (resource, permission) of a grant (the contract's shape); path parts exactly as PostgreSQL names them. */
export type GrantTargetItem = GrantItem;

export interface ApplyGrantOptions {
  /** The personal login role, from personalRoleName(). */
  role: string;
  /** From generatePassword(); sent to the server only as a SCRAM-SHA-256 verifier. */
  password: string;
  /** The verifier's iterations; GENERATED_PASSWORD_ITERATIONS when left out. */
  scramIterations?: number;
  /** The password's expiry: the grant's end plus a grace, as a backstop to revocation. */
  validUntil: Date;
  /** -1 for no limit. */
  connectionLimit: number;
  comment: string;
  items: GrantTargetItem[];
  /**
   * Awaited once the role is locked and read, before any change for the person: the caller's own
   * record of the grant, written meanwhile. A rejection rolls the transaction back and is thrown.
   */
  ready?: Promise<unknown>;
}

/** Future tables of this owner in this schema are not covered: the connector may not act for the owner. */
export interface UncoveredOwner {
  database: string;
  schema: string;
  owner: string;
}

/** An object in scope the connector can neither own nor grant (it lacks the privileges WITH GRANT OPTION). */
export interface UngrantedObject {
  database: string;
  kind: 'database' | 'schema' | 'table' | 'sequence' | 'routine';
  schema?: string;
  name: string;
  privileges: string[];
}

export interface ApplyGrantResult {
  /** The profile roles the person is now a member of for this grant, sorted. */
  profiles: string[];
  uncoveredOwners: UncoveredOwner[];
  ungrantedObjects: UngrantedObject[];
}

export interface RevokeGrantOptions {
  role: string;
  items: GrantTargetItem[];
  /** Items of the same person's other active grants on this instance: their memberships stay. */
  keepItems: GrantTargetItem[];
  /**
   * The person's other grants read again once the role's lock is held on the target; given, it
   * decides alone what goes. A grant made after `keepItems` was read (its row written before it
   * reached the target) then keeps its memberships and the login: without it, an expiry racing a
   * new grant could leave the new grant with a login that cannot log in. A grant ended since no
   * longer keeps anything: two grants of a person that expire together each read the other as
   * active at first, and without it neither would take the login away.
   */
  keepItemsNow?: () => Promise<GrantTargetItem[]>;
}

/** Grants of different roles revoked together (revokeGrants). */
export interface RevokeGrantsOptions {
  grants: Array<Omit<RevokeGrantOptions, 'keepItemsNow'>>;
  /** keepItemsNow of every grant, in the order of `grants`, read once the roles' locks are held. */
  keepItemsNow?: () => Promise<GrantTargetItem[][]>;
}

export interface RevokeGrantResult {
  /** The role can no longer log in (NOLOGIN, or it does not exist). */
  loginDisabled: boolean;
  sessionsTerminated: number;
}

export interface ManagedRoles {
  /** Members of latchkey_managed. */
  personalRoles: Array<{ name: string; canLogin: boolean; validUntil: string | null; memberships: string[] }>;
  /** Profile roles with their COMMENT, parsed from JSON when it is JSON. */
  profileRoles: Array<{ name: string; comment: unknown }>;
}
