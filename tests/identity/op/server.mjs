// An independent OpenID provider for the interoperability tests: panva's oidc-provider
// (OpenID Certified), configured from the environment and listening on loopback only.
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OP_CLIENT_ID,
      client_secret: process.env.OP_CLIENT_SECRET,
      redirect_uris: [process.env.OP_REDIRECT_URI],
      post_logout_redirect_uris: [process.env.OP_POST_LOGOUT_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@interop.example`,
          email_verified: true,
          name: `Interop ${id}`,
          preferred_username: id,
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['interop-test-only-cookie-key'] },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
