// A real OpenID Connect provider (the certified `oidc-provider` package) for Tocsin's tests.
// It listens on a free loopback port and prints {"issuer": ...} as one line once ready.
// Configuration comes as JSON in argv[2]:
//   {"clients": [{client_id, client_secret, redirect_uris}],
//    "accounts": {"<login>": {"email", "email_verified", "name", "groups"}}}
// Sign-in uses the package's development interactions: any password is accepted for a
// login listed in "accounts".
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: config.clients.map((c) => ({
      ...c, grant_types: ['authorization_code'], response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    pkce: { required: () => true, methods: ['S256'] },
    claims: {
      openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    conformIdTokenClaims: false, // put the requested claims in the ID token itself
    ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 600,
           Session: 3600, Grant: 3600 },
    features: { devInteractions: { enabled: true } },
    loadExistingGrant: async (ctx) => {
      // No consent screen: the test provider grants what the client asks for.
      if (!ctx.oidc.session || !ctx.oidc.session.accountId) return undefined;
      const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId,
                                         accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      const account = config.accounts[id];
      if (!account) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...account }; } };
    },
  });
  provider.proxy = false;
  provider.on('server_error', (ctx, err) => { process.stderr.write(`server_error: ${err.stack}\n`); });
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
