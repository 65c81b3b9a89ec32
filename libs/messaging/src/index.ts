export * from './app.exception';
export * from './correlation';
export * from './logger';
export * from './message-bus';
export * from './nats-server';
export * from './rpc.decorators';
export * from './rpc-exception.filter';
export * from './service-host';
