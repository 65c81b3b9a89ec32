import { useQuery } from '@tanstack/react-query';
import type { AccessFlow, Connector, Group, Integration, IntegrationStatus, IntegrationTypeDescription, User } from '@latchkey/contracts';
import { api } from './client';

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** Query keys, one place: mutations invalidate by these prefixes. */
export const keys = {
  catalog: ['catalog'] as const,
  connectors: ['connectors'] as const,
  integrations: ['integrations'] as const,
  integration: (id: string) => ['integrations', id] as const,
  drift: (id: string) => ['integrations', id, 'drift'] as const,
  resources: ['resources'] as const,
  users: ['users'] as const,
  groups: ['groups'] as const,
  tokens: ['tokens'] as const,
  flows: ['access-flows'] as const,
  flow: (id: string) => ['access-flows', id] as const,
  requests: ['access-requests'] as const,
  request: (id: string) => ['access-requests', id] as const,
  audit: ['audit'] as const,
  auditVerify: ['audit', 'verify'] as const,
  webhooks: ['webhooks'] as const,
  webhook: (id: string) => ['webhooks', id] as const,
  notificationDefaults: ['notification-defaults'] as const,
};

/** Reads every page of a list (lists an admin picks from: integrations, users, groups, flows). */
export async function allPages<T>(path: string, query: Record<string, string> = {}): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | undefined;
  do {
    const page: Page<T> = await api<Page<T>>('GET', path, { query: { ...query, pageSize: 500, pageToken } });
    items.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return items;
}

/** Statuses that move on by themselves: pages showing them poll until they settle. */
export const MOVING_INTEGRATION: readonly IntegrationStatus[] = ['INITIALIZING', 'REFRESHING'];
export const POLL_MS = 1_500;

export const useCatalog = () =>
  useQuery({ queryKey: keys.catalog, queryFn: () => api<Page<IntegrationTypeDescription>>('GET', '/catalog').then((p) => p.items), staleTime: 5 * 60_000 });

export const useConnectors = (poll = false) =>
  useQuery({
    queryKey: keys.connectors,
    queryFn: () => api<Page<Connector>>('GET', '/connectors').then((p) => p.items),
    refetchInterval: poll ? 5_000 : false,
  });

export const useIntegrations = () =>
  useQuery({
    queryKey: keys.integrations,
    queryFn: () => allPages<Integration>('/integrations'),
    refetchInterval: (query) => (query.state.data?.some((i) => MOVING_INTEGRATION.includes(i.status)) ? POLL_MS : false),
  });

export const useIntegration = (id: string) =>
  useQuery({
    queryKey: keys.integration(id),
    queryFn: () => api<Integration>('GET', `/integrations/${encodeURIComponent(id)}`),
    refetchInterval: (query) => (query.state.data && MOVING_INTEGRATION.includes(query.state.data.status) ? POLL_MS : false),
  });

export const useUsers = () => useQuery({ queryKey: keys.users, queryFn: () => allPages<User>('/users') });
export const useGroups = () => useQuery({ queryKey: keys.groups, queryFn: () => allPages<Group>('/groups') });
export const useFlows = () => useQuery({ queryKey: keys.flows, queryFn: () => allPages<AccessFlow>('/access-flows') });
