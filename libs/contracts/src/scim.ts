import { z } from 'zod';
import { Actor } from './audit';
import { defineRequest } from './contract';
import { text } from './text';

/** A SCIM bearer token as admins see it (the token itself is answered once, at creation). */
export const ScimToken = z.object({
  id: z.string().uuid(),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ScimToken = z.infer<typeof ScimToken>;

export const ScimTokenInput = z.object({ name: text({ max: 100, min: 1, trim: true }) }).strict();

/** One SCIM call as the gateway received it under /scim/v2; the access service answers status and body. */
export const ScimCall = z.object({
  /** SHA-256 (hex) of the bearer token. */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  resource: z.enum(['Users', 'Groups']),
  id: z.string().max(200).optional(),
  query: z.record(z.string(), z.string().max(2000)),
  body: z.unknown().optional(),
  /** Where the resources live, for `meta.location`. */
  baseUrl: z.string().max(500),
});
export type ScimCall = z.infer<typeof ScimCall>;
export const ScimAnswer = z.object({ status: z.number().int(), body: z.unknown().optional(), location: z.string().optional() });
export type ScimAnswer = z.infer<typeof ScimAnswer>;

/** SCIM 2.0 provisioning (RFC 7643/7644) and its bearer tokens, kept by the access service. */
export const ScimContracts = {
  accessScimTokensCreate: defineRequest(
    'access.scim-tokens.create',
    z.object({ actor: Actor, input: ScimTokenInput }),
    ScimToken.extend({ token: z.string() }),
  ),
  accessScimTokensList: defineRequest('access.scim-tokens.list', z.object({}).strict(), z.object({ items: z.array(ScimToken) })),
  accessScimTokensRevoke: defineRequest('access.scim-tokens.revoke', z.object({ actor: Actor, id: z.string().uuid('must be a UUID') }), ScimToken),
  /** A Users or Groups call, authenticated by the token's hash; null when the token is unknown or revoked. */
  accessScimCall: defineRequest('access.scim.call', ScimCall, ScimAnswer.nullable()),
} as const;
