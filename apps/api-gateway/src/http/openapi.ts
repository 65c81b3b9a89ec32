import { z } from 'zod';
import { Connector, DriftReport, ErrorEnvelope, Grant, GrantWithCredentials, Integration, IntegrationInput, IntegrationSummary, IntegrationTypeDescription, IntegrationUpdateInput, listOf, PreflightReport, Resource } from '@latchkey/contracts';
import { PostgresConfig } from '@latchkey/config';
import { AuditEntry, AuditVerifyReport } from '@latchkey/contracts';
import { AccessDetails, AccessFlow, AccessFlowInput, AccessRequest, AccessRequestInput, FlowDryRun, RequestableItem } from '@latchkey/contracts';
import { AccessFlowListQuery } from './access-flows.http.controller';
import { AccessRequestListQuery, DecisionBody, ExtendRequestBody } from './access-requests.http.controller';
import { AuditListQuery } from './audit.http.controller';
import { GroupListQuery } from './groups.http.controller';
import { IntegrationListQuery } from './integrations.http.controller';
import { ResourceListQuery, TagsBody } from './resources.http.controller';
import { CliSignInAnswer, CliSignInInput, SsoSettings, SsoSettingsInput, Group, GroupInput, PasswordLinkAnswer, SessionAnswer, SetPasswordInput, SignInInput, Token, TokenCreated, User, UserInput } from '@latchkey/contracts';
import { TokenBody, TokenListQuery } from './tokens.http.controller';
import { ExtendBody, GrantBody, GrantListQuery } from './grants.http.controller';
import { RequestableListQuery, UserListQuery } from './users.http.controller';
import { RotationRunResult } from '@latchkey/contracts';
import { Delivery, NotificationDefaults, NotificationDefaultsInput, NotificationPreferences, NotificationPreferencesInput, PersonalDeliveriesQuery, PersonalDelivery, Webhook, WebhookCreated, WebhookInput } from '@latchkey/contracts';
import { DeliveriesQuery, WebhookListQuery } from './webhooks.http.controller';
import { ScimToken, ScimTokenInput } from '@latchkey/contracts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Route {
  method: Method;
  path: string;
  summary: string;
  /** 'scim': a SCIM token only (errors are SCIM error bodies). */
  access: 'public' | 'authenticated' | 'admin' | 'scim';
  /** Only a browser session (the cookie) can call it: API tokens get 401. */
  sessionOnly?: boolean;
  body?: z.ZodType;
  response?: z.ZodType;
  status?: number;
  /** The schema the controller parses the query string with; each property is a parameter. */
  query?: z.ZodObject;
  /** The answer may also be CSV (`format=csv` or `Accept: text/csv`). */
  csv?: boolean;
}

/** The query strings of the OIDC and SCIM routes (read by those controllers as the protocols say). */
const OidcStartQuery = z.object({ returnTo: z.string().optional().describe('a path on Latchkey (anything else lands on /)') });
const OidcCallbackQuery = z.object({ code: z.string().optional(), state: z.string().optional(), iss: z.string().optional(), error: z.string().optional(), error_description: z.string().optional() });
const ScimListQuery = z.object({
  filter: z.string().optional().describe('attribute eq "value"'),
  startIndex: z.string().optional().describe('1-based'),
  count: z.string().optional().describe('at most 200'),
  excludedAttributes: z.string().optional().describe('members leaves the members out'),
});

/** Every HTTP route; a test checks that it matches the routes NestJS actually serves. */
export const ROUTES: Route[] = [
  { method: 'get', path: '/health', summary: 'Whether every service answers; names those that do not (503)', access: 'public' },
  { method: 'get', path: '/livez', summary: 'Liveness of this gateway process (200 while it answers)', access: 'public' },
  { method: 'get', path: '/readyz', summary: "Readiness of this gateway process: its control database and NATS answer (503 naming what does not)", access: 'public' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics of every process of every service, added up across replicas (admins, or the METRICS_TOKEN bearer)', access: 'admin' },
  { method: 'get', path: '/api/docs', summary: 'This OpenAPI document', access: 'public' },
  { method: 'get', path: '/api/v1/catalog', summary: 'Integration types: config schema, defaults, resource types, permissions, minimum connector version', access: 'authenticated', response: z.object({ items: z.array(IntegrationTypeDescription) }) },
  { method: 'get', path: '/api/v1/connectors', summary: 'Connectors: id, version, status, last heartbeat', access: 'admin', response: listOf(Connector) },
  { method: 'post', path: '/api/v1/integrations', summary: 'Create an integration; it is tested through its connector at once', access: 'admin', body: IntegrationInput.extend({ config: PostgresConfig }), response: Integration, status: 201 },
  { method: 'get', path: '/api/v1/integrations', summary: 'List integrations (people without the admin role see each as an IntegrationSummary: no secret source, connector login, preflight or status reason)', access: 'authenticated', response: listOf(z.union([Integration, IntegrationSummary])), query: IntegrationListQuery },
  { method: 'get', path: '/api/v1/integrations/{id}', summary: 'One integration (an IntegrationSummary for people without the admin role)', access: 'authenticated', response: z.union([Integration, IntegrationSummary]) },
  { method: 'put', path: '/api/v1/integrations/{id}', summary: 'Replace an integration (omit secret to keep it); re-tested', access: 'admin', body: IntegrationUpdateInput.extend({ config: PostgresConfig }), response: Integration },
  { method: 'delete', path: '/api/v1/integrations/{id}', summary: 'Delete an integration', access: 'admin', response: z.object({ id: z.string() }) },
  { method: 'post', path: '/api/v1/integrations/{id}/test', summary: 'Connection test and preflight report through the connector', access: 'admin', response: z.object({ integration: Integration, report: PreflightReport }) },
  { method: 'post', path: '/api/v1/integrations/{id}/rotate', summary: 'Rotate the connector user\'s password now (repairing an interrupted rotation first); a failure is answered in result and kept on the integration', access: 'admin', response: RotationRunResult },
  { method: 'post', path: '/api/v1/integrations/{id}/refresh', summary: 'Run discovery now on the integration\'s connector; 202 with the queued job', access: 'admin', response: z.object({ integrationId: z.string(), jobId: z.string(), queued: z.boolean() }), status: 202 },
  { method: 'get', path: '/api/v1/resources', summary: 'Discovered inventory, in path order; q: path fragment, tag: key or key=value', access: 'authenticated', response: listOf(Resource), query: ResourceListQuery },
  { method: 'get', path: '/api/v1/resources/{id}', summary: 'One resource: path, owner, comment, tags, permissions', access: 'authenticated', response: Resource },
  { method: 'put', path: '/api/v1/resources/{id}/tags', summary: 'Replace the API tags of a resource; they win over comment tags and survive refreshes', access: 'admin', body: TagsBody, response: Resource },
  { method: 'post', path: '/api/v1/integrations/{id}/grants', summary: 'Grant time-boxed access now (admin; access requests use the same path); answers the credentials', access: 'admin', body: GrantBody, response: GrantWithCredentials, status: 201 },
  { method: 'get', path: '/api/v1/integrations/{id}/grants', summary: 'Grants on this integration', access: 'admin', response: listOf(Grant), query: GrantListQuery },
  { method: 'get', path: '/api/v1/integrations/{id}/grants/{grantId}', summary: 'One grant: status, expiry, attempts, last error', access: 'admin', response: Grant },
  { method: 'post', path: '/api/v1/integrations/{id}/grants/{grantId}/revoke', summary: 'Revoke now: memberships out, NOLOGIN, sessions terminated', access: 'admin', response: Grant },
  { method: 'post', path: '/api/v1/integrations/{id}/grants/{grantId}/extend', summary: 'Move the expiry (and VALID UNTIL) later', access: 'admin', body: ExtendBody, response: Grant },
  { method: 'post', path: '/api/v1/integrations/{id}/grants/{grantId}/reset-credentials', summary: 'A new password for an active grant', access: 'admin', response: GrantWithCredentials },
  { method: 'get', path: '/api/v1/integrations/{id}/drift', summary: 'Managed roles without grants, grants missing on the target', access: 'admin', response: DriftReport },
  { method: 'post', path: '/api/v1/integrations/{id}/drift/repair', summary: 'Disable orphan roles, restore missing grants', access: 'admin', response: DriftReport },
  { method: 'get', path: '/api/v1/audit', summary: 'Audit log, newest first; format=csv (or Accept: text/csv) exports every match as CSV, up to 100,000 rows', access: 'admin', response: listOf(AuditEntry), query: AuditListQuery, csv: true },
  // Access flows (admin) and access requests (anyone authenticated; the access service checks who may do what).
  { method: 'post', path: '/api/v1/access-flows', summary: 'Create an access flow; one that could never match is refused naming every broken rule', access: 'admin', body: AccessFlowInput, response: AccessFlow, status: 201 },
  { method: 'post', path: '/api/v1/access-flows/dry-run', summary: 'Who could request what and who would approve, for an unsaved flow (nothing saved); refused like a save when it could never match', access: 'admin', body: AccessFlowInput, response: FlowDryRun },
  { method: 'get', path: '/api/v1/access-flows', summary: 'List access flows', access: 'admin', response: listOf(AccessFlow), query: AccessFlowListQuery },
  { method: 'get', path: '/api/v1/access-flows/{id}', summary: 'One access flow', access: 'admin', response: AccessFlow },
  { method: 'put', path: '/api/v1/access-flows/{id}', summary: 'Replace an access flow (requests already made keep their copy)', access: 'admin', body: AccessFlowInput, response: AccessFlow },
  { method: 'delete', path: '/api/v1/access-flows/{id}', summary: 'Delete an access flow', access: 'admin', response: z.object({ id: z.string() }) },
  { method: 'post', path: '/api/v1/access-requests', summary: 'Request (resource, permission) pairs; split into one request per matching flow and integration; 403 says why when no flow allows it; dryRun answers the same creating nothing (200)', access: 'authenticated', body: AccessRequestInput, response: z.object({ dryRun: z.boolean(), requests: z.array(AccessRequest) }), status: 201 },
  { method: 'get', path: '/api/v1/access-requests', summary: 'Requests the caller made or may approve (admins: all), newest first', access: 'authenticated', response: listOf(AccessRequest), query: AccessRequestListQuery },
  { method: 'get', path: '/api/v1/access-requests/{id}', summary: 'One request: status, approvers, approvals, expiry', access: 'authenticated', response: AccessRequest },
  { method: 'post', path: '/api/v1/access-requests/{id}/approve', summary: 'Approve (an approver of the request or an admin; never the requester)', access: 'authenticated', body: DecisionBody, response: AccessRequest },
  { method: 'post', path: '/api/v1/access-requests/{id}/reject', summary: 'Reject (an approver of the request or an admin; never the requester)', access: 'authenticated', body: DecisionBody, response: AccessRequest },
  { method: 'post', path: '/api/v1/access-requests/{id}/revoke', summary: 'Take access back now (the requester or an admin)', access: 'authenticated', body: DecisionBody, response: AccessRequest },
  { method: 'post', path: '/api/v1/access-requests/{id}/extend', summary: "Move the expiry later, within the flow's limits (the requester or an admin)", access: 'authenticated', body: ExtendRequestBody, response: AccessRequest },
  { method: 'get', path: '/api/v1/access-requests/{id}/access-details', summary: 'How to log in; the password on the first read only (the requester)', access: 'authenticated', response: AccessDetails },
  { method: 'post', path: '/api/v1/access-requests/{id}/reset-credentials', summary: 'A new password for the granted login, shown in this answer only (the requester)', access: 'authenticated', response: AccessDetails },
  { method: 'post', path: '/api/v1/webhooks', summary: 'Create a webhook endpoint (Standard Webhooks, or Slack Block Kit); the answer carries its signing secret (whsec_...) once', access: 'admin', body: WebhookInput, response: WebhookCreated, status: 201 },
  { method: 'get', path: '/api/v1/webhooks', summary: 'List webhook endpoints (URLs with credentials masked)', access: 'admin', response: listOf(Webhook), query: WebhookListQuery },
  { method: 'get', path: '/api/v1/webhooks/{id}', summary: 'One webhook endpoint; disabledReason says why Latchkey turned it off (410 Gone)', access: 'admin', response: Webhook },
  { method: 'put', path: '/api/v1/webhooks/{id}', summary: 'Replace a webhook endpoint (the secret is kept); active: true turns a disabled one on again', access: 'admin', body: WebhookInput, response: Webhook },
  { method: 'delete', path: '/api/v1/webhooks/{id}', summary: 'Delete a webhook endpoint and its delivery log', access: 'admin', response: z.object({ id: z.string() }) },
  { method: 'post', path: '/api/v1/webhooks/{id}/rotate-secret', summary: 'A new signing secret, shown once; both signatures are sent during WEBHOOK_SECRET_OVERLAP_HOURS', access: 'admin', response: WebhookCreated },
  { method: 'post', path: '/api/v1/webhooks/{id}/test', summary: 'Send a webhook.test event to this endpoint; 202 with its delivery', access: 'admin', response: Delivery, status: 202 },
  { method: 'get', path: '/api/v1/webhooks/{id}/deliveries', summary: 'Delivery log, newest first: status, attempts (status code, latency, response excerpt), dead-lettered ones', access: 'admin', response: listOf(Delivery), query: DeliveriesQuery },
  { method: 'get', path: '/api/v1/me/notification-preferences', summary: "The caller's notifications: channels (email, their own Slack), what applies per event type, essential types (always on), their own choices and the organisation's defaults; a Slack webhook only masked", access: 'authenticated', response: NotificationPreferences },
  { method: 'put', path: '/api/v1/me/notification-preferences', summary: "Replace the caller's choices ({channels?: [email|slack], events: {eventType: true|false}, slackWebhookUrl?: url|null}); a type or channels left out follow the organisation's default; turning an essential type off is refused (400)", access: 'authenticated', body: NotificationPreferencesInput, response: NotificationPreferences },
  { method: 'get', path: '/api/v1/me/notification-deliveries', summary: "The messages to the caller's own Slack webhook and email, newest first: status, attempts (status code, latency, response excerpt, error), last error; never the Slack URL", access: 'authenticated', response: listOf(PersonalDelivery), query: PersonalDeliveriesQuery },
  { method: 'get', path: '/api/v1/users/{id}/notification-deliveries', summary: "A person's messages to their own Slack webhook and email, newest first (as they see them on My notifications)", access: 'admin', response: listOf(PersonalDelivery), query: PersonalDeliveriesQuery },
  { method: 'get', path: '/api/v1/notification-preferences/defaults', summary: "The organisation's default channels (email when unset) and events (on when unset), and the essential types", access: 'admin', response: NotificationDefaults },
  { method: 'put', path: '/api/v1/notification-preferences/defaults', summary: "Replace the organisation's defaults ({channels?, events}); people's own choices still win; essential types cannot be turned off (400)", access: 'admin', body: NotificationDefaultsInput, response: NotificationDefaults },
  { method: 'post', path: '/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', summary: 'Send a delivery once more now, with the same webhook-id; 202', access: 'admin', response: Delivery, status: 202 },
  { method: 'post', path: '/api/v1/scim-tokens', summary: "A bearer token for an identity provider's SCIM client; the token is in this answer only", access: 'admin', body: ScimTokenInput, response: ScimToken.extend({ token: z.string() }), status: 201 },
  { method: 'get', path: '/api/v1/scim-tokens', summary: 'SCIM tokens (never the tokens themselves)', access: 'admin', response: z.object({ items: z.array(ScimToken) }) },
  { method: 'post', path: '/api/v1/scim-tokens/{id}/revoke', summary: 'Revoke a SCIM token: its next call answers 401', access: 'admin', response: ScimToken, status: 200 },
  { method: 'get', path: '/scim/v2/ServiceProviderConfig', summary: 'SCIM: what is supported (PATCH, filter; no bulk, sort, etag)', access: 'scim' },
  { method: 'get', path: '/scim/v2/ResourceTypes', summary: 'SCIM: User and Group', access: 'scim' },
  { method: 'get', path: '/scim/v2/Schemas', summary: 'SCIM: the User and Group schemas as Latchkey keeps them', access: 'scim' },
  { method: 'get', path: '/scim/v2/Users', summary: 'SCIM: list users; filter userName|externalId|emails.value|displayName|id eq "..."', access: 'scim', query: ScimListQuery },
  { method: 'post', path: '/scim/v2/Users', summary: 'SCIM: create a user (userName is the email); 409 uniqueness', access: 'scim', status: 201 },
  { method: 'get', path: '/scim/v2/Users/{id}', summary: 'SCIM: one user', access: 'scim' },
  { method: 'put', path: '/scim/v2/Users/{id}', summary: 'SCIM: replace a user; active false deprovisions (sessions and tokens end)', access: 'scim' },
  { method: 'patch', path: '/scim/v2/Users/{id}', summary: 'SCIM: PATCH a user (add, replace, remove; Entra quirks accepted)', access: 'scim' },
  { method: 'delete', path: '/scim/v2/Users/{id}', summary: 'SCIM: delete a user (sessions and tokens end)', access: 'scim', status: 204 },
  { method: 'get', path: '/scim/v2/Groups', summary: 'SCIM: list groups; filter displayName|externalId|id eq "..."', access: 'scim', query: ScimListQuery },
  { method: 'post', path: '/scim/v2/Groups', summary: 'SCIM: create a group with members', access: 'scim', status: 201 },
  { method: 'get', path: '/scim/v2/Groups/{id}', summary: 'SCIM: one group with its members', access: 'scim', query: ScimListQuery.pick({ excludedAttributes: true }) },
  { method: 'put', path: '/scim/v2/Groups/{id}', summary: 'SCIM: replace a group and its members', access: 'scim' },
  { method: 'patch', path: '/scim/v2/Groups/{id}', summary: 'SCIM: add or remove members, rename (204)', access: 'scim', status: 204 },
  { method: 'delete', path: '/scim/v2/Groups/{id}', summary: 'SCIM: delete a group', access: 'scim', status: 204 },
  { method: 'get', path: '/api/v1/audit/verify', summary: 'Check the audit hash chain; names the first edited or deleted entry', access: 'admin', response: AuditVerifyReport },
  { method: 'post', path: '/api/v1/users', summary: 'Create a user; group names no group has yet create those groups', access: 'admin', body: UserInput, response: User, status: 201 },
  { method: 'get', path: '/api/v1/users', summary: 'List users; group: a group name, q: a fragment of email or name', access: 'admin', response: listOf(User), query: UserListQuery },
  { method: 'get', path: '/api/v1/users/{id}', summary: 'One user', access: 'admin', response: User },
  { method: 'put', path: '/api/v1/users/{id}', summary: 'Replace a user (omitted groups and attributes become empty); the last admin cannot be demoted', access: 'admin', body: UserInput, response: User },
  { method: 'delete', path: '/api/v1/users/{id}', summary: 'Delete a user and revoke their tokens; their requests and audit entries stay', access: 'admin', response: z.object({ id: z.string() }) },
  { method: 'post', path: '/api/v1/users/{id}/deactivate', summary: 'Deactivate a user: their sessions end, their tokens are revoked, they cannot sign in or approve; the last active admin and the caller cannot be', access: 'admin', response: User },
  { method: 'post', path: '/api/v1/users/{id}/reactivate', summary: 'Reactivate a user (revoked tokens stay revoked)', access: 'admin', response: User },
  { method: 'post', path: '/api/v1/users/{id}/invite', summary: 'A one-time set-password link for a user without a password (INVITE_LINK_HOURS); the url is in this answer only', access: 'admin', response: PasswordLinkAnswer, status: 201 },
  { method: 'post', path: '/api/v1/users/{id}/reset-password', summary: 'A one-time link to set a new password (RESET_LINK_HOURS); the url is in this answer only', access: 'admin', response: PasswordLinkAnswer, status: 201 },
  { method: 'get', path: '/api/v1/auth/providers', summary: 'Ways to sign in with a browser: local, and oidc (with its startUrl) when single sign-on is set up', access: 'public', response: z.object({ providers: z.array(z.object({ id: z.string(), name: z.string(), startUrl: z.string().optional() })) }) },
  { method: 'get', path: '/api/v1/auth/oidc/start', summary: 'Single sign-on: redirects (302) to the identity provider (authorization code + PKCE); returnTo: a path to land on afterwards; 404 when OIDC is not set up', access: 'public', query: OidcStartQuery, status: 302 },
  { method: 'get', path: '/api/v1/auth/oidc/callback', summary: 'The redirect URI: checks state, nonce and the ID token, sets latchkey_session and redirects (303) to returnTo; a refusal redirects to /sign-in?error=<code>', access: 'public', query: OidcCallbackQuery, status: 303 },
  { method: 'post', path: '/api/v1/auth/sign-in', summary: 'Email and password; sets the latchkey_session cookie (a new id each time) and answers the csrfToken to send as X-CSRF-Token; 401 INVALID_CREDENTIALS, 429 TOO_MANY_ATTEMPTS with Retry-After', access: 'public', body: SignInInput, response: SessionAnswer, status: 200 },
  { method: 'get', path: '/api/v1/auth/session', summary: 'The session of the cookie: user, csrfToken, deadlines; 401 without one', access: 'authenticated', sessionOnly: true, response: SessionAnswer },
  { method: 'post', path: '/api/v1/auth/sign-out', summary: 'End this session and clear the cookie (204)', access: 'authenticated', sessionOnly: true, status: 204 },
  { method: 'post', path: '/api/v1/auth/sign-out-everywhere', summary: 'End every session of the caller, this one included', access: 'authenticated', sessionOnly: true, response: z.object({ sessionsEnded: z.number().int() }), status: 200 },
  { method: 'get', path: '/api/v1/settings/sso', summary: 'Single sign-on in effect: source (settings, environment or none), issuer, client id, whether a client secret is stored (never the secret), button name, groups claim, scopes, requireSso, justInTime, the redirect URI to register', access: 'admin', response: SsoSettings },
  { method: 'put', path: '/api/v1/settings/sso', summary: 'Save single sign-on (over the OIDC_* environment variables): the client secret is sealed under the master key and never answered; leave it out to keep the stored one; 409 without LATCHKEY_PUBLIC_URL', access: 'admin', body: SsoSettingsInput, response: SsoSettings },
  { method: 'delete', path: '/api/v1/settings/sso', summary: "Forget the saved single sign-on: the environment's (if any) applies again", access: 'admin', response: SsoSettings },
  { method: 'post', path: '/api/v1/auth/cli-tokens', summary: "`latchkey login` in the browser: a new API token of the caller's own (30 days), sealed to the CLI's one-time X25519 public key; only the CLI can open it", access: 'authenticated', sessionOnly: true, body: CliSignInInput, response: CliSignInAnswer, status: 201 },
  { method: 'post', path: '/api/v1/auth/password', summary: 'Set a password with a one-time link\'s token (204); ends the user\'s sessions; 400 LINK_INVALID when used, expired or replaced', access: 'public', body: SetPasswordInput, status: 204 },
  { method: 'get', path: '/api/v1/me', summary: 'The caller: email, groups, attributes, role', access: 'authenticated', response: User },
  {
    method: 'get',
    path: '/api/v1/me/requestable',
    summary: "What the caller may request: resources their active flows offer, with permissions, flows, longest duration and approvers; q: a fragment of the path, tag: key or key=value",
    access: 'authenticated',
    response: listOf(RequestableItem),
    query: RequestableListQuery,
  },
  { method: 'post', path: '/api/v1/groups', summary: 'Create a group (names are unique regardless of case)', access: 'admin', body: GroupInput, response: Group, status: 201 },
  { method: 'get', path: '/api/v1/groups', summary: 'List groups with their member counts', access: 'admin', response: listOf(Group), query: GroupListQuery },
  { method: 'put', path: '/api/v1/groups/{id}', summary: "Replace a group's description (the name must stay: flows and approvers name groups)", access: 'admin', body: GroupInput, response: Group },
  { method: 'delete', path: '/api/v1/groups/{id}', summary: 'Delete a group and its memberships; its former members\' grants and pending requests are reviewed', access: 'admin', response: z.object({ id: z.string() }) },
  { method: 'post', path: '/api/v1/tokens', summary: 'Create an API token (userId defaults to the caller; admins may name anyone); the token is in this answer only', access: 'authenticated', body: TokenBody, response: TokenCreated, status: 201 },
  { method: 'get', path: '/api/v1/tokens', summary: 'API tokens: the caller\'s own (admins: everyone\'s, or userId\'s)', access: 'authenticated', response: listOf(Token), query: TokenListQuery },
  { method: 'post', path: '/api/v1/tokens/{id}/revoke', summary: 'Revoke an API token (your own; admins any)', access: 'authenticated', response: Token },
];

/** The tags of the document, in reading order, with what each groups. */
const TAGS = {
  system: 'Health, probes, metrics and this document',
  catalog: 'Integration types and connectors',
  integrations: 'PostgreSQL instances: connection test, preflight, discovery and credential rotation',
  resources: 'The discovered inventory and its tags',
  grants: 'Time-boxed grants made directly by admins, and drift between grants and the target',
  'access-flows': 'Who may request what, who approves, for how long',
  'access-requests': 'Requests, decisions and the one-time access details',
  identities: 'Users, groups and API tokens',
  audit: 'The hash-chained audit log',
  webhooks: "Webhook endpoints (Standard Webhooks, Slack), their delivery log, tests and redeliveries; people's notification preferences",
  auth: 'Signing in with a browser: sessions, passwords, one-time links and single sign-on (OIDC)',
  scim: 'SCIM 2.0 provisioning from an identity provider (RFC 7644), and its tokens',
} as const;
type Tag = keyof typeof TAGS;

/**
 * The operationId and tag of each route, by `method path`. Kept apart from ROUTES so that each
 * route's line stays one line; a test fails naming any route missing here.
 */
export const OPERATIONS: Record<string, readonly [operationId: string, tag: Tag]> = {
  'post /api/v1/users/{id}/invite': ['inviteUser', 'auth'],
  'post /api/v1/users/{id}/reset-password': ['createPasswordResetLink', 'auth'],
  'get /api/v1/auth/providers': ['listSignInProviders', 'auth'],
  'post /api/v1/auth/sign-in': ['signIn', 'auth'],
  'get /api/v1/auth/session': ['getSession', 'auth'],
  'post /api/v1/auth/sign-out': ['signOut', 'auth'],
  'post /api/v1/auth/sign-out-everywhere': ['signOutEverywhere', 'auth'],
  'post /api/v1/auth/password': ['setPassword', 'auth'],
  'post /api/v1/auth/cli-tokens': ['createCliToken', 'auth'],
  'get /api/v1/settings/sso': ['getSsoSettings', 'auth'],
  'put /api/v1/settings/sso': ['saveSsoSettings', 'auth'],
  'delete /api/v1/settings/sso': ['deleteSsoSettings', 'auth'],
  'get /api/v1/auth/oidc/start': ['startOidcSignIn', 'auth'],
  'get /api/v1/auth/oidc/callback': ['finishOidcSignIn', 'auth'],
  'post /api/v1/scim-tokens': ['createScimToken', 'scim'],
  'get /api/v1/scim-tokens': ['listScimTokens', 'scim'],
  'post /api/v1/scim-tokens/{id}/revoke': ['revokeScimToken', 'scim'],
  'get /scim/v2/ServiceProviderConfig': ['getScimServiceProviderConfig', 'scim'],
  'get /scim/v2/ResourceTypes': ['listScimResourceTypes', 'scim'],
  'get /scim/v2/Schemas': ['listScimSchemas', 'scim'],
  'get /scim/v2/Users': ['listScimUsers', 'scim'],
  'post /scim/v2/Users': ['createScimUser', 'scim'],
  'get /scim/v2/Users/{id}': ['getScimUser', 'scim'],
  'put /scim/v2/Users/{id}': ['replaceScimUser', 'scim'],
  'patch /scim/v2/Users/{id}': ['patchScimUser', 'scim'],
  'delete /scim/v2/Users/{id}': ['deleteScimUser', 'scim'],
  'get /scim/v2/Groups': ['listScimGroups', 'scim'],
  'post /scim/v2/Groups': ['createScimGroup', 'scim'],
  'get /scim/v2/Groups/{id}': ['getScimGroup', 'scim'],
  'put /scim/v2/Groups/{id}': ['replaceScimGroup', 'scim'],
  'patch /scim/v2/Groups/{id}': ['patchScimGroup', 'scim'],
  'delete /scim/v2/Groups/{id}': ['deleteScimGroup', 'scim'],
  'get /health': ['getHealth', 'system'],
  'get /livez': ['getLiveness', 'system'],
  'get /readyz': ['getReadiness', 'system'],
  'get /metrics': ['getMetrics', 'system'],
  'get /api/docs': ['getOpenApiDocument', 'system'],
  'get /api/v1/catalog': ['listIntegrationTypes', 'catalog'],
  'get /api/v1/connectors': ['listConnectors', 'catalog'],
  'post /api/v1/integrations': ['createIntegration', 'integrations'],
  'get /api/v1/integrations': ['listIntegrations', 'integrations'],
  'get /api/v1/integrations/{id}': ['getIntegration', 'integrations'],
  'put /api/v1/integrations/{id}': ['replaceIntegration', 'integrations'],
  'delete /api/v1/integrations/{id}': ['deleteIntegration', 'integrations'],
  'post /api/v1/integrations/{id}/test': ['testIntegration', 'integrations'],
  'post /api/v1/integrations/{id}/rotate': ['rotateIntegrationCredentials', 'integrations'],
  'post /api/v1/integrations/{id}/refresh': ['refreshIntegration', 'integrations'],
  'get /api/v1/resources': ['listResources', 'resources'],
  'get /api/v1/resources/{id}': ['getResource', 'resources'],
  'put /api/v1/resources/{id}/tags': ['replaceResourceTags', 'resources'],
  'post /api/v1/integrations/{id}/grants': ['createGrant', 'grants'],
  'get /api/v1/integrations/{id}/grants': ['listGrants', 'grants'],
  'get /api/v1/integrations/{id}/grants/{grantId}': ['getGrant', 'grants'],
  'post /api/v1/integrations/{id}/grants/{grantId}/revoke': ['revokeGrant', 'grants'],
  'post /api/v1/integrations/{id}/grants/{grantId}/extend': ['extendGrant', 'grants'],
  'post /api/v1/integrations/{id}/grants/{grantId}/reset-credentials': ['resetGrantCredentials', 'grants'],
  'get /api/v1/integrations/{id}/drift': ['getDrift', 'grants'],
  'post /api/v1/integrations/{id}/drift/repair': ['repairDrift', 'grants'],
  'get /api/v1/audit': ['listAuditEntries', 'audit'],
  'get /api/v1/audit/verify': ['verifyAuditLog', 'audit'],
  'post /api/v1/access-flows': ['createAccessFlow', 'access-flows'],
  'post /api/v1/access-flows/dry-run': ['dryRunAccessFlow', 'access-flows'],
  'get /api/v1/access-flows': ['listAccessFlows', 'access-flows'],
  'get /api/v1/access-flows/{id}': ['getAccessFlow', 'access-flows'],
  'put /api/v1/access-flows/{id}': ['replaceAccessFlow', 'access-flows'],
  'delete /api/v1/access-flows/{id}': ['deleteAccessFlow', 'access-flows'],
  'post /api/v1/access-requests': ['createAccessRequests', 'access-requests'],
  'get /api/v1/access-requests': ['listAccessRequests', 'access-requests'],
  'get /api/v1/access-requests/{id}': ['getAccessRequest', 'access-requests'],
  'post /api/v1/access-requests/{id}/approve': ['approveAccessRequest', 'access-requests'],
  'post /api/v1/access-requests/{id}/reject': ['rejectAccessRequest', 'access-requests'],
  'post /api/v1/access-requests/{id}/revoke': ['revokeAccessRequest', 'access-requests'],
  'post /api/v1/access-requests/{id}/extend': ['extendAccessRequest', 'access-requests'],
  'get /api/v1/access-requests/{id}/access-details': ['getAccessDetails', 'access-requests'],
  'post /api/v1/access-requests/{id}/reset-credentials': ['resetAccessRequestCredentials', 'access-requests'],
  'post /api/v1/webhooks': ['createWebhook', 'webhooks'],
  'get /api/v1/webhooks': ['listWebhooks', 'webhooks'],
  'get /api/v1/webhooks/{id}': ['getWebhook', 'webhooks'],
  'put /api/v1/webhooks/{id}': ['replaceWebhook', 'webhooks'],
  'delete /api/v1/webhooks/{id}': ['deleteWebhook', 'webhooks'],
  'post /api/v1/webhooks/{id}/rotate-secret': ['rotateWebhookSecret', 'webhooks'],
  'post /api/v1/webhooks/{id}/test': ['testWebhook', 'webhooks'],
  'get /api/v1/webhooks/{id}/deliveries': ['listWebhookDeliveries', 'webhooks'],
  'post /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': ['redeliverWebhookDelivery', 'webhooks'],
  'get /api/v1/me/notification-preferences': ['getMyNotificationPreferences', 'webhooks'],
  'put /api/v1/me/notification-preferences': ['setMyNotificationPreferences', 'webhooks'],
  'get /api/v1/me/notification-deliveries': ['listMyNotificationDeliveries', 'webhooks'],
  'get /api/v1/users/{id}/notification-deliveries': ['listUserNotificationDeliveries', 'webhooks'],
  'get /api/v1/notification-preferences/defaults': ['getNotificationDefaults', 'webhooks'],
  'put /api/v1/notification-preferences/defaults': ['setNotificationDefaults', 'webhooks'],
  'post /api/v1/users': ['createUser', 'identities'],
  'get /api/v1/users': ['listUsers', 'identities'],
  'get /api/v1/users/{id}': ['getUser', 'identities'],
  'put /api/v1/users/{id}': ['replaceUser', 'identities'],
  'delete /api/v1/users/{id}': ['deleteUser', 'identities'],
  'post /api/v1/users/{id}/deactivate': ['deactivateUser', 'identities'],
  'post /api/v1/users/{id}/reactivate': ['reactivateUser', 'identities'],
  'get /api/v1/me': ['getMe', 'identities'],
  'get /api/v1/me/requestable': ['listRequestable', 'access-requests'],
  'post /api/v1/groups': ['createGroup', 'identities'],
  'get /api/v1/groups': ['listGroups', 'identities'],
  'put /api/v1/groups/{id}': ['replaceGroup', 'identities'],
  'delete /api/v1/groups/{id}': ['deleteGroup', 'identities'],
  'post /api/v1/tokens': ['createToken', 'identities'],
  'get /api/v1/tokens': ['listTokens', 'identities'],
  'post /api/v1/tokens/{id}/revoke': ['revokeToken', 'identities'],
};

const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

/** One query parameter per property of the schema the controller parses the query with (types, enums, bounds). */
function queryParameters(schema: z.ZodObject) {
  const { properties = {}, required = [] } = json(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(properties).map(([name, { description, ...property }]) => ({
    name,
    in: 'query',
    required: required.includes(name) && !('default' in property),
    ...(description ? { description } : {}),
    schema: property,
  }));
}

/** The OpenAPI 3.1 document; `servers` is the gateway that serves it, whatever its address. */
export function openApiDocument(version: string) {
  const errorResponse = { description: 'Error envelope', content: { 'application/json': { schema: json(ErrorEnvelope, 'output') } } };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const operation = OPERATIONS[`${route.method} ${route.path}`];
    if (!operation) throw new Error(`no operationId for ${route.method} ${route.path}: add it to OPERATIONS`);
    const [operationId, tag] = operation;
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } })),
      ...(route.query ? queryParameters(route.query) : []),
    ];
    const answer = {
      ...(route.response ? { 'application/json': { schema: json(route.response, 'output') } } : {}),
      ...(route.csv ? { 'text/csv': { schema: { type: 'string', description: 'A header line, then one line per entry (RFC 4180)' } } } : {}),
    };
    paths[route.path] ??= {};
    paths[route.path][route.method] = {
      operationId,
      tags: [tag],
      summary: route.summary,
      security: route.access === 'public' ? [] : route.access === 'scim' ? [{ scim: [] }] : route.sessionOnly ? [{ session: [] }] : [{ bearer: [] }, { session: [] }],
      ...(route.access === 'admin' ? { 'x-latchkey-access': 'admin' } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(route.body, 'input') } } } } : {}),
      responses: {
        [String(route.status ?? 200)]: { description: 'OK', ...(Object.keys(answer).length ? { content: answer } : {}) },
        ...(route.access === 'public' ? {} : { 401: errorResponse }),
        ...(route.access === 'admin' ? { 403: errorResponse } : {}),
        ...(route.body || parameters.length ? { 400: errorResponse } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Latchkey API',
      version,
      description: 'Just-in-time access to PostgreSQL. Errors are {code, message, details?}.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'The gateway that serves this document' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        scim: { type: 'http', scheme: 'bearer', description: 'A SCIM token (lks_...) from POST /api/v1/scim-tokens; errors under /scim/v2 are SCIM error bodies' },
        session: { type: 'apiKey', in: 'cookie', name: 'latchkey_session', description: 'Browser session from POST /api/v1/auth/sign-in; state-changing calls also need the X-CSRF-Token header (403 CSRF_TOKEN_INVALID)' },
      },
    },
    paths,
  };
}
