export {
  connectTarget,
  DEFAULT_CONNECT_TIMEOUT_MS,
  getServerInfo,
  type ServerInfo,
  type TargetConnection,
  type TargetConnectionParams,
} from './connection';
export { TargetConnectionError, type TargetConnectionErrorKind } from './connection-error';
export { DEFAULT_PREFLIGHT_MAX_DATABASES, runPreflight, type PreflightOptions } from './preflight';
export { MAX_IDENTIFIER_BYTES, quoteIdent, quoteLiteral } from './quote';
export { sslAttemptPlan, type CertificateCheck, type SslAttempt } from './ssl-attempts';
