/**
 * REDIS_URL in one of three forms, all of them one variable:
 * - `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS): one server;
 * - `redis+cluster://[user:password@]host:port,host:port,...`: seed nodes of a Redis Cluster (the
 *   client learns the others from them);
 * - `redis+sentinel://[user:password@]host:port,host:port,.../<master name>`: Sentinels that name
 *   the current primary of `<master name>` and fail it over (the credentials are the primary's).
 * A `rediss+cluster://` or `rediss+sentinel://` scheme uses TLS to the data servers.
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; username?: string; password?: string; tls: boolean };
export interface RedisNode {
  host: string;
  port: number;
}

export const REDIS_URL_RULE =
  'must be redis://host:port (or rediss://), redis+cluster://host:port,host:port,... (Redis Cluster seed nodes) or redis+sentinel://host:port,.../master-name (Sentinels and the name of the primary they watch)';

/** The target a REDIS_URL names, or a reason why it names none. */
export function parseRedisUrl(value: string): RedisTarget | { error: string } {
  const scheme = /^([a-z+]+):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') {
    try {
      new URL(value);
    } catch {
      return { error: REDIS_URL_RULE };
    }
    return { mode: 'standalone', url: value };
  }
  const kind =
    scheme === 'redis+cluster' || scheme === 'rediss+cluster'
      ? 'cluster'
      : scheme === 'redis+sentinel' || scheme === 'rediss+sentinel'
        ? 'sentinel'
        : undefined;
  if (!kind) return { error: REDIS_URL_RULE };
  let rest = value.slice(scheme!.length + 3);
  const at = rest.lastIndexOf('@');
  let username: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    username = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo) || undefined;
    password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) || undefined : undefined;
  }
  const slash = rest.indexOf('/');
  const hosts = slash >= 0 ? rest.slice(0, slash) : rest;
  const name = slash >= 0 ? decodeURIComponent(rest.slice(slash + 1)) : '';
  const nodes: RedisNode[] = [];
  for (const part of hosts.split(',')) {
    const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(part.trim());
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) return { error: `${REDIS_URL_RULE}; "${part.trim()}" is not host:port` };
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  const tls = scheme!.startsWith('rediss');
  const credentials = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  if (kind === 'cluster') {
    if (name) return { error: `${REDIS_URL_RULE}; a cluster URL has no path` };
    return { mode: 'cluster', nodes, ...credentials, tls };
  }
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) return { error: `${REDIS_URL_RULE}; the path must be the master name Sentinel watches (letters, digits, . _ -)` };
  return { mode: 'sentinel', sentinels: nodes, name, ...credentials, tls };
}
