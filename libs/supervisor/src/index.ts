export * from './supervisor';
