import { AccessFlowsHttpController } from './access-flows.http.controller';
import { AccessRequestsHttpController } from './access-requests.http.controller';
import { AuditHttpController } from './audit.http.controller';
import { AuthHttpController } from './auth.http.controller';
import { CatalogHttpController } from './catalog.http.controller';
import { DocsHttpController } from './docs.http.controller';
import { GrantsHttpController } from './grants.http.controller';
import { GroupsHttpController } from './groups.http.controller';
import { HealthHttpController } from './health.http.controller';
import { IntegrationsHttpController } from './integrations.http.controller';
import { MetricsHttpController } from './metrics.http.controller';
import { NotificationPreferencesHttpController } from './notification-preferences.http.controller';
import { OidcHttpController } from './oidc.http.controller';
import { SsoSettingsHttpController } from './sso-settings.http.controller';
import { ResourcesHttpController } from './resources.http.controller';
import { RotationHttpController } from './rotation.http.controller';
import { ScimTokensHttpController } from './scim-tokens.http.controller';
import { ScimHttpController } from './scim.http.controller';
import { TokensHttpController } from './tokens.http.controller';
import { UsersHttpController } from './users.http.controller';
import { WebhooksHttpController } from './webhooks.http.controller';

/** Every HTTP controller the gateway serves; openapi.spec.ts checks ROUTES against exactly these. */
export const HTTP_CONTROLLERS = [
  HealthHttpController,
  MetricsHttpController,
  DocsHttpController,
  AuthHttpController,
  OidcHttpController,
  SsoSettingsHttpController,
  CatalogHttpController,
  IntegrationsHttpController,
  GrantsHttpController,
  ResourcesHttpController,
  RotationHttpController,
  UsersHttpController,
  GroupsHttpController,
  TokensHttpController,
  ScimTokensHttpController,
  ScimHttpController,
  AccessFlowsHttpController,
  AccessRequestsHttpController,
  AuditHttpController,
  WebhooksHttpController,
  NotificationPreferencesHttpController,
];
