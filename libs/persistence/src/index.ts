export * from './data-source';
export * from './page-token';
