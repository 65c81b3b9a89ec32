import type { SsoIdentity } from '@latchkey/contracts';

/** Claims about the token, not the person: never copied into attributes. */
const PROTOCOL_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'auth_time',
  'acr',
  'amr',
  'azp',
  'sid',
  'updated_at',
]);
/** Mapped to the user's own fields. */
const PERSON_CLAIMS = new Set(['email', 'email_verified', 'name', 'given_name', 'family_name']);

/** A claim by name, or by a dotted path into nested objects (e.g. `realm_access.roles`) when no claim has the whole name. */
function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export class SsoClaimsError extends Error {}

/**
 * The person in a validated ID token's claims (with userinfo's merged in): email (required, and
 * not marked unverified), name, groups from `groupsClaim` (a list, or one string), and every other
 * plain claim (string, number, boolean) as an attribute.
 */
export function ssoIdentityFrom(claims: Record<string, unknown>, groupsClaim: string): SsoIdentity {
  const email = claims.email;
  if (typeof email !== 'string' || !email.includes('@'))
    throw new SsoClaimsError('The identity provider sent no email address: allow the `email` scope for Latchkey.');
  if (claims.email_verified === false || claims.email_verified === 'false') throw new SsoClaimsError(`The identity provider has not verified ${email}.`);
  const given = [claims.given_name, claims.family_name].filter((v): v is string => typeof v === 'string' && v.length > 0).join(' ');
  const name =
    typeof claims.name === 'string' && claims.name.trim()
      ? claims.name.trim()
      : given || (typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined);
  const rawGroups = claimAt(claims, groupsClaim);
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === 'string') : typeof rawGroups === 'string' ? [rawGroups] : [];
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(claims)) {
    if (PROTOCOL_CLAIMS.has(key) || PERSON_CLAIMS.has(key) || key === groupsClaim || key.length > 200) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') attributes[key] = String(value).slice(0, 500);
  }
  return {
    issuer: String(claims.iss),
    subject: String(claims.sub),
    email: email.trim().toLowerCase(),
    ...(name ? { name: name.slice(0, 200) } : {}),
    groups: groups.slice(0, 1000).map((g) => g.slice(0, 200)),
    attributes,
  };
}
