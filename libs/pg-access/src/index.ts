export { connectTarget, DEFAULT_CONNECT_TIMEOUT_MS, getServerInfo, type ServerInfo, type TargetConnection, type TargetConnectionParams } from './connection';
export { TargetConnectionError, type TargetConnectionErrorKind } from './connection-error';
export { DEFAULT_PREFLIGHT_MAX_DATABASES, runPreflight, type PreflightOptions } from './preflight';
export { MAX_IDENTIFIER_BYTES, quoteIdent, quoteLiteral } from './quote';
export { sslAttemptPlan, type CertificateCheck, type SslAttempt } from './ssl-attempts';
export { TargetPool, targetSessions } from './target-pool';
export { applyGrant } from './grants/apply-grant';
export { canLogin, lockConnectorUser, type RotationSession } from './grants/connector-password';
export { setPassword, setValidUntil } from './grants/credentials';
export { dropPersonalRole } from './grants/drop-personal-role';
export { GrantError, type GrantErrorCode } from './grants/grant-error';
export type {
  ApplyGrantOptions,
  ApplyGrantResult,
  GrantTargetItem,
  ManagedRoles,
  PersonIdentity,
  RevokeGrantOptions,
  RevokeGrantsOptions,
  RevokeGrantResult,
  UncoveredOwner,
  UngrantedObject,
} from './grants/grant-types';
export { inspectManaged } from './grants/inspect-managed';
export { DANGEROUS_PREDEFINED_ROLES, unrequestableReason } from './grants/unrequestable-roles';
export { disableRole, revokeGrant, revokeGrants } from './grants/revoke-grant';
export { MANAGED_MARKER_ROLE, ORPHAN_OWNER_ROLE, personalRoleName, profileRoleName } from './grants/role-names';
export { GENERATED_PASSWORD_ITERATIONS, generatePassword, scramVerifier, scramVerifierAsync, type ScramOptions } from './grants/scram';
export { parseCommentTags } from './discovery/comment-tags';
export {
  DEFAULT_DISCOVERY_PAGE_SIZE,
  discoverInstance,
  DiscoveryReadError,
  type DiscoveredObject,
  type DiscoveryOptions,
  type DiscoveryOutcome,
  type SkippedDatabase,
} from './discovery/discover';
export { TargetConfigError, targetConnectionParams } from './integration-target';
export { TargetDatabase } from './target-database';
