// A real OpenID Connect provider for meet's tests: panva's certified oidc-provider, configured to issue
// JWT (RFC 9068) and opaque access tokens for meet as a resource server, with introspection (RFC 7662).
//
// Environment: PORT (binds 127.0.0.1), CLIENT_ID, CLIENT_SECRET, AUDIENCE (meet's resource indicator).
// Besides the provider's own endpoints, one test-only route mints a user's access token the way the
// token endpoint would after a sign-in: POST /test/access-token {"sub", "scope", "format": "jwt"|"opaque"}.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID ?? 'meet';
const clientSecret = process.env.CLIENT_SECRET ?? 'meet-secret';
const audience = process.env.AUDIENCE ?? 'meet';
const scopes = 'rooms:create rooms:list rooms:retrieve rooms:update rooms:delete accesses:manage recordings:read audit:read';

function resourceServer(format) {
  return { scope: scopes, audience, accessTokenFormat: format, jwt: { sign: { alg: 'RS256' } } };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'client_credentials'],
    response_types: ['code'],
  }],
  scopes: ['openid', 'email', 'profile', ...scopes.split(' ')],
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      getResourceServerInfo: () => resourceServer('jwt'),
    },
  },
});

provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || ctx.path !== '/test/access-token') {
    await next();
    return;
  }
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
  const client = await provider.Client.find(clientId);
  const token = new provider.AccessToken({
    accountId: body.sub,
    client,
    scope: body.scope ?? scopes,
    gty: 'authorization_code',
    expiresIn: body.expires_in ?? 600,
  });
  token.resourceServer = resourceServer(body.format === 'opaque' ? 'opaque' : 'jwt');
  if (body.audience) token.aud = body.audience;
  ctx.body = { access_token: await token.save() };
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider on ${issuer}\n`);
});
