export * from './data-source';
export * from './page-token';
export * from './persistence.module';
export * from './audit-outbox';
export * from './advisory-locks';
export * from './prepared-query';
