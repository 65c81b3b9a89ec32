import type { PreflightReport } from '@latchkey/contracts';
import type { TargetConnectionParams } from './connection';
import { discoverInstance, type DiscoveredObject, type DiscoveryOptions, type DiscoveryOutcome } from './discovery/discover';
import { applyGrant } from './grants/apply-grant';
import { canLogin, lockConnectorUser, type RotationSession } from './grants/connector-password';
import { setPassword, setValidUntil } from './grants/credentials';
import { dropPersonalRole } from './grants/drop-personal-role';
import type { ApplyGrantOptions, ApplyGrantResult, ManagedRoles, RevokeGrantOptions, RevokeGrantResult, RevokeGrantsOptions } from './grants/grant-types';
import { inspectManaged } from './grants/inspect-managed';
import { disableRole, revokeGrant, revokeGrants } from './grants/revoke-grant';
import { runPreflight, type PreflightOptions } from './preflight';

/**
 * Every change and read Latchkey makes on a target database, in one place for the services: they
 * hold an instance (or a fake in their unit tests) and never see `pg`. Each method opens or borrows
 * its own session from the parameters it is given; the SQL lives in the functions it calls.
 */
export class TargetDatabase {
  /** Creates or updates a person's login and memberships for the items (idempotent). */
  applyGrant(conn: TargetConnectionParams, opts: ApplyGrantOptions): Promise<ApplyGrantResult> {
    return applyGrant(conn, opts);
  }

  /** Takes the items back; with nothing left to keep, the login goes and its sessions end. */
  revokeGrant(conn: TargetConnectionParams, opts: RevokeGrantOptions): Promise<RevokeGrantResult> {
    return revokeGrant(conn, opts);
  }

  /** revokeGrant for grants of different roles in one transaction: all of them, or none and the error. */
  revokeGrants(conn: TargetConnectionParams, opts: RevokeGrantsOptions): Promise<RevokeGrantResult[]> {
    return revokeGrants(conn, opts);
  }

  /** NOLOGIN and no memberships for a managed role no grant stands behind (drift repair). */
  disableRole(conn: TargetConnectionParams, role: string): Promise<{ sessionsTerminated: number }> {
    return disableRole(conn, role);
  }

  /** A personal role's new password, valid until `validUntil`. */
  setPassword(conn: TargetConnectionParams, role: string, password: string, validUntil: Date, iterations?: number): Promise<void> {
    return setPassword(conn, role, password, validUntil, iterations);
  }

  /** A personal role's password now expires at `validUntil`. */
  setValidUntil(conn: TargetConnectionParams, role: string, validUntil: Date): Promise<void> {
    return setValidUntil(conn, role, validUntil);
  }

  /** Drops an unused personal role, or says why it stays (disabled). */
  dropPersonalRole(conn: TargetConnectionParams, role: string): Promise<{ dropped: boolean; reason?: string }> {
    return dropPersonalRole(conn, role);
  }

  /** The managed roles as the target holds them (drift). */
  inspectManaged(conn: TargetConnectionParams): Promise<ManagedRoles> {
    return inspectManaged(conn);
  }

  /** What the connector user may do, each failed check with the SQL that fixes it. */
  runPreflight(conn: TargetConnectionParams, opts: PreflightOptions): Promise<PreflightReport> {
    return runPreflight(conn, opts);
  }

  /** Reads the instance's catalog (databases, schemas, tables, roles), handing each page to `sink`. */
  discoverInstance(conn: TargetConnectionParams, options: DiscoveryOptions, sink: (objects: DiscoveredObject[]) => Promise<void>): Promise<DiscoveryOutcome> {
    return discoverInstance(conn, options, sink);
  }

  /** The rotation lock of the connector user, on a session of its own (see lockConnectorUser). */
  lockConnectorUser(conn: TargetConnectionParams): Promise<RotationSession> {
    return lockConnectorUser(conn);
  }

  /** Whether exactly these credentials log in; false when the password is refused. */
  canLogin(conn: TargetConnectionParams): Promise<boolean> {
    return canLogin(conn);
  }
}
