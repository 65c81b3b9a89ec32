export { freePort } from './free-port';
export * from './nats-server';
export { DEFAULT_PG_BIN_DIR, startPgCluster, type PgCluster, type PgClusterOptions, type PgHbaMode } from './pg-cluster';
export { PG_VERSIONS, type PgVersion } from './pg-versions';
export * from './stack';
export { createTestCertificates, type TestCertificates } from './test-certificates';
export * from './test-stack';
export * from './redis-server';
export * from './wait';
