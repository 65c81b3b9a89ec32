export * from './env';
export * from './integration-types';
export * from './load-config';
export { compareVersions } from '@latchkey/contracts';
export * from './redis-url';
export * from './reserved';
