export * from './queues';
export * from './queue-definition';
export * from './queue-host';
export * from './queue-processor';
