import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { QueryClient } from '@tanstack/react-query';
import type { SessionAnswer, SignInInput } from '@latchkey/contracts';
import { api, ApiError, setCsrfToken, setUnauthenticatedHandler } from './client';

export const SESSION_KEY = ['session'] as const;

async function fetchSession(): Promise<SessionAnswer | null> {
  try {
    const session = await api<SessionAnswer>('GET', '/auth/session');
    setCsrfToken(session.csrfToken);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw err;
  }
}

/** The signed-in person (null when signed out); one query, read by the shell and the sign-in page. */
export function useSession() {
  return useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 5 * 60_000, retry: false });
}

/** A 401 from any call means the session is gone: forget it (and every cached answer) so the app shows sign-in. */
export function watchSession(queryClient: QueryClient) {
  setUnauthenticatedHandler(() => {
    setCsrfToken(null);
    queryClient.setQueryData(SESSION_KEY, null);
  });
}

export interface SignInProvider {
  id: string;
  name: string;
  startUrl?: string;
}

/** The ways to sign in: email and password, and single sign-on when it is set up. */
export function useSignInProviders() {
  return useQuery({
    queryKey: ['auth-providers'],
    queryFn: () => api<{ providers: SignInProvider[] }>('GET', '/auth/providers').then((a) => a.providers),
    staleTime: 5 * 60_000,
    retry: false,
  });
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: SignInInput) => api<SessionAnswer>('POST', '/auth/sign-in', { body: input }),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      queryClient.clear();
      queryClient.setQueryData(SESSION_KEY, session);
    },
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (everywhere: boolean) => api<void>('POST', everywhere ? '/auth/sign-out-everywhere' : '/auth/sign-out'),
    onSettled: () => {
      setCsrfToken(null);
      queryClient.clear();
      queryClient.setQueryData(SESSION_KEY, null);
    },
  });
}
