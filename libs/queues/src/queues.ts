import IORedis, { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import { parseRedisUrl } from '@latchkey/config';

/** A connection BullMQ runs on: one server (perhaps found through Sentinel) or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/**
 * Every BullMQ queue of Latchkey. NEVER rename one: jobs already waiting in Redis under the old
 * name would never run. Queues that reach target databases are per connector.
 */
export const QueueName = {
  Revocations: 'revocations',
  Discovery: 'discovery',
  /** The access service's grants of approved requests (not per connector: it reaches provisioning over NATS). */
  AccessGrants: 'access-grants',
  Rotation: 'rotation',
  /** Webhook and email deliveries, expiry warnings (the timing only: the control database holds what is due). */
  Notifications: 'notifications',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** Job name -> payload. Payloads carry ids, never secrets or entities: handlers re-read state. */
export interface JobMap {
  'revoke-grant': { grantId: string };
  'refresh-integration': { integrationId: string };
  /** Make (or, for a request revoked meanwhile, take back) the grant of an approved access request. */
  'grant-request': { requestId: string };
  'rotate-integration': { integrationId: string };
  /** One attempt of a webhook or email delivery. */
  deliver: { deliveryId: string };
  /** A granted request's end is near: warn its requester. */
  'expiry-warning': { requestId: string };
  /** A pending request may be due for a reminder to its approvers or an escalation tier. */
  'pending-check': { requestId: string };
}
export type JobName = keyof JobMap;

export const connectorQueue = (queue: QueueName, connectorId: string): string => `${queue}-${connectorId}`;

/** BullMQ job ids may not contain ':' and must not look like integers. */
export const jobIdFor = (name: JobName, id: string): string => `${name}-${id}`.replace(/:/g, '_');

/**
 * One ioredis connection for BullMQ, for any REDIS_URL form (see parseRedisUrl): workers need
 * maxRetriesPerRequest null to wait out Redis restarts and failovers. Through Sentinel the client
 * asks the Sentinels for the primary whenever it reconnects. A failover ends its connection: the
 * old primary dies, or Sentinel disconnects every client of an instance it reconfigures (CLIENT
 * KILL TYPE normal). ioredis' optional failoverDetector (a +switch-master subscription) stays off:
 * in ioredis 6.0.0 that message, arriving while the client is already reconnecting, rejects the
 * attempt with "Connection is closed" and the client ends for good (status `end`, no retry). A
 * loaded CI run left rotation's queue connection ended after a failover.
 */
export function createRedis(url: string): RedisConnection {
  const target = parseRedisUrl(url);
  if ('error' in target) throw new Error(`REDIS_URL ${target.error}`);
  const common = { maxRetriesPerRequest: null, enableReadyCheck: true } as const;
  switch (target.mode) {
    case 'standalone':
      return new IORedis(url, { ...common, lazyConnect: false });
    case 'cluster':
      return new Cluster(target.nodes, {
        enableReadyCheck: true,
        redisOptions: { ...common, username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) },
      });
    case 'sentinel':
      return new IORedis({
        ...common,
        sentinels: target.sentinels,
        name: target.name,
        username: target.username,
        password: target.password,
        ...(target.tls ? { tls: {} } : {}),
      });
  }
}

/**
 * BullMQ's key prefix for a queue. A Lua script of BullMQ touches several keys of one queue, which
 * Redis Cluster allows only within one hash slot: there each queue gets its own hash tag (queues
 * spread over the masters). On one server the default prefix stays, so jobs already waiting keep running.
 */
export const queuePrefix = (redis: RedisConnection, name: string): string | undefined => (redis instanceof Cluster ? `{bull:${name}}` : undefined);
