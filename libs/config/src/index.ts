export * from './env';
export * from './integration-types';
export * from './load-config';
export * from './semver';
export * from './reserved';
