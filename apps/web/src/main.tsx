import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router/dom';
import { ApiError } from './api/client';
import { watchSession } from './api/session';
import { router } from './routes';
import './styles.css';

/**
 * One query client for all server state. A page opened again shows what it had at once and
 * refetches behind it (answers are stale at once: a user someone added a second ago through the
 * API or the CLI shows up when People opens); queries that change rarely (the session, the
 * catalog) say how long theirs stay fresh. 4xx answers are not retried: they will not change.
 */
const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 0,
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
      refetchOnWindowFocus: true,
    },
  },
});
watchSession(queryClient);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
