import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { GatewayEnv, LATCHKEY_VERSION, loadConfig } from '@latchkey/config';
import { createLogger, runMain, startService } from '@latchkey/messaging';
import { GatewayModule } from './gateway.module';
import { HttpEnvelopeFilter } from './http/http-exception.filter';
import { requireJsonBodies } from './http/content-type.middleware';
import { requestContext } from './http/request-context.middleware';

runMain('api-gateway', () => {
  const env = loadConfig('api-gateway', GatewayEnv);
  const logger = createLogger('api-gateway', env.LOG_LEVEL);
  return startService({
    service: 'api-gateway',
    version: LATCHKEY_VERSION,
    env,
    logger,
    imports: [GatewayModule.forRoot(env)],
    http: {
      port: env.PORT,
      host: env.HOST,
      exceptionFilter: new HttpEnvelopeFilter(logger),
      configure: (app) => {
        const express = app as NestExpressApplication;
        // Body first: body-parser finishes on stream events, outside any earlier async context.
        // Not strict: a body that is JSON but not an object reaches validation, which says
        // "must be a JSON object" (only text that is not JSON at all is "must be valid JSON").
        express.use(requireJsonBodies());
        // SCIM clients send application/scim+json (RFC 7644 3.1).
        express.useBodyParser('json', { limit: '256kb', strict: false, type: ['application/json', 'application/scim+json'] });
        express.use(requestContext(logger));
        express.disable('x-powered-by');
        // Only proxies named here may say who the client is (throttling per address, Secure cookies).
        if (env.LATCHKEY_TRUST_PROXY !== undefined) express.set('trust proxy', env.LATCHKEY_TRUST_PROXY);
      },
    },
    handleSignals: true,
  });
});
