import { createBrowserRouter, Navigate } from 'react-router';
import type { ComponentType } from 'react';
import { RouteError } from './components/route-error';
import { Shell } from './components/shell';
import { SetPasswordPage } from './pages/set-password.page';
import { SignInPage } from './pages/sign-in.page';

/** Pages behind the sign-in are loaded on first visit: the sign-in page stays small. */
const page = (load: () => Promise<{ [name: string]: unknown }>, name: string) => async () => ({ Component: (await load())[name] as ComponentType });

export const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInPage />, errorElement: <RouteError /> },
  { path: '/set-password', element: <SetPasswordPage />, errorElement: <RouteError /> },
  {
    path: '/',
    element: <Shell />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Navigate to="/catalog" replace /> },
      { path: 'catalog', lazy: page(() => import('./pages/catalog.page'), 'CatalogPage') },
      { path: 'catalog/:type/connect', lazy: page(() => import('./pages/connect-integration.page'), 'ConnectIntegrationPage') },
      { path: 'integrations', lazy: page(() => import('./pages/integrations.page'), 'IntegrationsPage') },
      { path: 'integrations/:id', lazy: page(() => import('./pages/integration-detail.page'), 'IntegrationDetailPage') },
      { path: 'integrations/:id/edit', lazy: page(() => import('./pages/connect-integration.page'), 'EditIntegrationPage') },
      { path: 'connectors', lazy: page(() => import('./pages/connectors.page'), 'ConnectorsPage') },
      { path: 'resources', lazy: page(() => import('./pages/resources.page'), 'ResourcesPage') },
      { path: 'access-flows', lazy: page(() => import('./pages/access-flows.page'), 'AccessFlowsPage') },
      { path: 'access-flows/new', lazy: page(() => import('./pages/access-flow-editor.page'), 'NewAccessFlowPage') },
      { path: 'access-flows/:id', lazy: page(() => import('./pages/access-flow-editor.page'), 'EditAccessFlowPage') },
      { path: 'people', element: <Navigate to="/people/users" replace /> },
      { path: 'people/users', lazy: page(() => import('./pages/people.page'), 'UsersPage') },
      { path: 'people/groups', lazy: page(() => import('./pages/people.page'), 'GroupsPage') },
      { path: 'people/tokens', lazy: page(() => import('./pages/people.page'), 'TokensPage') },
      { path: 'people/sso', lazy: page(() => import('./pages/sso-settings.page'), 'SsoSettingsPage') },
      { path: 'activity', lazy: page(() => import('./pages/activity.page'), 'ActivityPage') },
      { path: 'activity/:id', lazy: page(() => import('./pages/request-detail.page'), 'RequestDetailPage') },
      { path: 'portal/request', lazy: page(() => import('./portal/new-request.page'), 'NewRequestPage') },
      { path: 'portal/requests', lazy: page(() => import('./portal/my-requests.page'), 'MyRequestsPage') },
      { path: 'portal/requests/:id', lazy: page(() => import('./portal/my-requests.page'), 'MyRequestPage') },
      { path: 'portal/requests/:id/connect', lazy: page(() => import('./portal/connect.page'), 'ConnectPage') },
      { path: 'portal/approvals', lazy: page(() => import('./portal/approvals.page'), 'ApprovalsPage') },
      // Notifications link here: the pending approvals, the request among them.
      { path: 'portal/approvals/:id', lazy: page(() => import('./portal/approvals.page'), 'ApprovalsPage') },
      { path: 'portal/cli-sign-in', lazy: page(() => import('./portal/cli-sign-in.page'), 'CliSignInPage') },
      { path: 'portal/notifications', lazy: page(() => import('./portal/notification-preferences.page'), 'NotificationPreferencesPage') },
      { path: 'notifications', lazy: page(() => import('./pages/notifications.page'), 'NotificationsPage') },
      { path: 'notifications/defaults', lazy: page(() => import('./pages/notification-defaults.page'), 'NotificationDefaultsPage') },
      { path: 'notifications/:id', lazy: page(() => import('./pages/notifications.page'), 'NotificationEndpointPage') },
      { path: 'audit', lazy: page(() => import('./pages/audit.page'), 'AuditPage') },
      { path: '*', lazy: page(() => import('./pages/not-found.page'), 'NotFoundPage') },
    ],
  },
]);
