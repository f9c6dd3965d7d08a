// An independent OpenID provider for the interoperability tests: panva's oidc-provider
// (OpenID Certified), configured from the environment and listening on loopback only.
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;

// An account's `groups` claim (as Keycloak's group mapper or Entra ID's groups claim send
// it): read at each sign-in from OP_GROUPS_FILE, a JSON object account -> list, so a test can
// change a user's groups between two sign-ins.
function groupsOf(id) {
  if (!process.env.OP_GROUPS_FILE) return undefined;
  try {
    return JSON.parse(readFileSync(process.env.OP_GROUPS_FILE, 'utf8'))[id] ?? [];
  } catch {
    return [];
  }
}

// RFC 8707 resource servers, from OP_RESOURCES (a JSON object resource -> space-separated
// scopes): a token for one of them is a JWT (RFC 9068) the gateway can verify, with that
// resource as its audience. Any other resource is refused, as the library's default does.
const resources = JSON.parse(process.env.OP_RESOURCES || '{}');

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
          groups: groupsOf(id),
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'groups'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // RFC 7591 and RFC 7592, for developers' applications (tests/applications): only with
    // the initial access token the test passes (`true` alone would need one issued here).
    registration: {
      enabled: true,
      initialAccessToken: process.env.OP_INITIAL_ACCESS_TOKEN || true,
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (!Object.hasOwn(resources, resourceIndicator)) throw new errors.InvalidTarget();
        return {
          scope: resources[resourceIndicator],
          audience: resourceIndicator,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  cookies: { keys: ['interop-test-only-cookie-key'] },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
