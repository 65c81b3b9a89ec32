// A real OpenID Provider (the certified `oidc-provider` package) for the e2e tests, on loopback.
// Accounts are read from ACCOUNTS_FILE at every sign-in, so a test can change a person's groups
// between two sign-ins. An account with `idToken: "expired"` or `"foreign-key"` gets, from the
// token endpoint, an ID token that expired ten minutes ago (signed with the provider's own key)
// or one signed with a key the provider never published: what a relying party must refuse.
// Prints `listening <url>` once it answers.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ACCOUNTS_FILE } = process.env;
const issuer = `http://127.0.0.1:${PORT}`;
const accounts = () => JSON.parse(readFileSync(ACCOUNTS_FILE, 'utf8'));
const KID = 'test-signing-key';
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

/** A compact JWS (RS256) of the header and payload, signed with `key`. */
const signJwt = (header, payload, key) => {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'department'], groups: ['groups'] },
  findAccount: async (_ctx, id) => {
    const account = accounts()[id];
    if (!account) return undefined;
    const { idToken: _misbehaviour, ...claims } = account;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  jwks: { keys: [{ ...signingKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['oidc test provider cookie key'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
});
provider.proxy = false;

// The token endpoint's answer, rewritten for accounts that ask for a bad ID token.
provider.use(async (ctx, next) => {
  await next();
  const idToken = ctx.path === '/token' && ctx.status === 200 ? ctx.body?.id_token : undefined;
  if (typeof idToken !== 'string') return;
  const [header, payload] = idToken
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  const misbehaviour = accounts()[payload.sub]?.idToken;
  if (misbehaviour === 'expired') {
    const now = Math.floor(Date.now() / 1000);
    ctx.body = { ...ctx.body, id_token: signJwt(header, { ...payload, iat: now - 4200, exp: now - 600 }, signingKey) };
  } else if (misbehaviour === 'foreign-key') {
    ctx.body = { ...ctx.body, id_token: signJwt(header, payload, foreignKey) };
  }
});

const server = provider.listen(Number(PORT), '127.0.0.1', () => console.log(`listening ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
