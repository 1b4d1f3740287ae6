/**
 * A development stand-in for R-Auth: `oidc-provider` on loopback, for `npm start` and the tests.
 * It issues client-credentials access tokens as ES256 JWTs for one resource (the iam-service
 * audience), and speaks dynamic client registration (RFC 7591/7592) behind an initial access
 * token — the static one, or the admin client's client-credentials access token for the
 * registration resource (see `registrationCredential`) — as the IdP adapter will, and a Hydra-shaped admin API that lists, reads, replaces and
 * deletes the registered clients (the inventory adapter's counterpart). Registered clients and their
 * registration access tokens live in `storeFile` when one is given (as `npm start` does, in
 * `.local`), so a restart keeps them; everything else (issued tokens) lives in memory.
 */
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, importJWK, jwtVerify } from 'jose';
import type { ClientMetadata, Configuration, errors } from 'oidc-provider';
import { ADMIN_PATH, adminApi } from './dev-idp-admin-api.js';
import { fileStore, memoryAdapter, type MemoryStore } from './dev-idp-store.js';

export interface DevIdpClient {
  client_id: string;
  client_secret: string;
}

export interface DevIdp {
  /** `http://127.0.0.1:<port>`, exactly as tokens carry it in `iss`. */
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** RFC 7591 endpoint; requires `Authorization: Bearer <initialAccessToken>`. */
  registrationEndpoint: string;
  /**
   * The Hydra-shaped admin API (`${issuer}/admin`): `GET /clients?page_size=&page_token=` lists
   * the dynamically registered clients (`Link: <…>; rel="next"` while more remain);
   * `GET`, `PUT` and `DELETE /clients/{id}` read, replace and delete one, as Hydra does (a PUT
   * kills the client's registration access tokens; see local/dev-idp-admin-api.ts). All require
   * `Authorization: Bearer <initialAccessToken>`, or a registration token (`registrationResource`).
   */
  adminApiUrl: string;
  initialAccessToken: string;
  /**
   * The other registration credential: a client-credentials access token for this resource
   * (RFC 8707 `resource`, the registration endpoint) with this scope, which only the admin client
   * may ask for. It authorizes registration and the admin API as the initial access token does.
   */
  registrationResource: string;
  registrationScope: string;
  /** The `aud` of access tokens for iam-service. */
  audience: string;
  /** Client whose client-credentials tokens have `sub` === adminSubject. */
  admin: DevIdpClient;
  /** Private signing key (JWK with kid and alg) so tests can mint tokens with the IdP's own key but chosen claims. */
  signingKey: JsonWebKey & { kid: string; alg: string };
  /** Gets an access token by the standard client-credentials grant (fetch to tokenEndpoint). */
  clientCredentialsToken(client: DevIdpClient): Promise<string>;
  stop(): Promise<void>;
}

export interface DevIdpOptions {
  /** 0 or undefined: a free port on 127.0.0.1. */
  port?: number;
  /** The admin client's client_id, so its token's `sub` is this subject. */
  adminSubject: string;
  /** Kept across `npm start` runs by the caller; generated if absent. */
  adminSecret?: string;
  audience?: string;
  /** More client-credentials clients (tests use them as tenant admins, plain users, ...). */
  extraClients?: DevIdpClient[];
  /** A private EC P-256 JWK saved by the caller, so tokens survive a restart; generated if absent. */
  signingKey?: JsonWebKey;
  /** Bearer token that authorizes client registration; generated if absent. */
  initialAccessToken?: string;
  /**
   * Where registered clients and their registration access tokens are kept across restarts
   * (created, mode 0600); absent: in memory only. A client's `registration_client_uri` names the
   * issuer, so a restart keeps them usable only on the same port.
   */
  storeFile?: string;
}

export const DEFAULT_AUDIENCE = 'urn:citadel:iam';
/**
 * RFC 7592 lets an IdP issue a new client_secret in an update's response but names no way to
 * ask for one, and oidc-provider refuses an update that carries a new secret. This dev IdP (like
 * the IdP adapter, lib/adapters/oidc/registration-client.ts) takes the extension member
 * `"rotate_client_secret": true` in the PUT body as the request: a registration policy replaces
 * the secret, and the old one fails at the token endpoint at once. The member is never stored.
 */
export const ROTATE_CLIENT_SECRET_MEMBER = 'rotate_client_secret';
const ROTATE_SECRET_POLICY = 'rotate-secret-on-request';
const SCOPE = 'iam';
/** Like Keycloak's `create-client` role: only the admin client holds it. */
const REGISTRATION_SCOPE = 'client-registration';
const TOKEN_TTL_SECONDS = 3600;

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  // Loaded only when a dev IdP is wanted: it is a devDependency, takes a second or more to load,
  // and prints its "Unsupported runtime" notice on Node 20 at import time. With RAUTH_URL set,
  // `npm start` never pays for it.
  const { default: Provider, errors } = await import('oidc-provider');
  const store: MemoryStore = options.storeFile ? fileStore(options.storeFile) : new Map();
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const signingKey = await signingJwk(options.signingKey);
  const admin = { client_id: options.adminSubject, client_secret: options.adminSecret ?? secret() };
  const initialAccessToken = options.initialAccessToken ?? secret();

  // The issuer names the port, so listen first and attach the provider once the port is known.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let provider: InstanceType<typeof Provider>;
  try {
    const clients = [staticClient(admin, `${SCOPE} ${REGISTRATION_SCOPE}`), ...(options.extraClients ?? []).map((client) => staticClient(client))];
    provider = new Provider(issuer, configuration({ audience, registrationResource: `${issuer}/reg`, signingKey, clients, store, errors }));
  } catch (error) {
    server.close(); // a bad client or key must not leave the port taken
    throw error;
  }
  try {
    // Seeded under the caller's (or generated) value, so the token works as before; as a model
    // (rather than a plain string in the configuration) it can carry the registration policy
    // that every client it registers inherits (see ROTATE_SECRET_POLICY).
    await new provider.InitialAccessToken({ jti: initialAccessToken, policies: [ROTATE_SECRET_POLICY] }).save();
  } catch (error) {
    server.close();
    throw error;
  }
  const oidcCallback = provider.callback();
  // Checked as oidc-provider checks a registration (it throws InvalidClientMetadata).
  const validate = (properties: Record<string, unknown>) => provider.Client.validate(properties as ClientMetadata);
  const registrationResource = `${issuer}/reg`;
  const accepts = registrationCredential({ issuer, registrationResource, signingKey });
  const serveAdminApi = adminApi({ issuer, store, initialAccessToken, accepts, validate });
  server.on('request', (req, res) => {
    if (serveAdminApi(req, res)) return;
    if (req.method !== 'POST' || req.url !== '/reg') return void oidcCallback(req, res);
    // oidc-provider takes only its own InitialAccessToken models at registration. A verified
    // registration access token from the grant is exchanged here for a one-minute one (carrying
    // the same policy as the static one); anything else goes through unchanged, to be refused.
    void (async () => {
      const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (presented && presented !== initialAccessToken && (await accepts(presented))) {
        const minted = await new provider.InitialAccessToken({ expiresIn: 60, policies: [ROTATE_SECRET_POLICY] }).save();
        req.headers.authorization = `Bearer ${minted}`;
      }
      await oidcCallback(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    tokenEndpoint,
    jwksUri: `${issuer}/jwks`,
    registrationEndpoint: `${issuer}/reg`,
    adminApiUrl: `${issuer}${ADMIN_PATH}`,
    initialAccessToken,
    registrationResource,
    registrationScope: REGISTRATION_SCOPE,
    audience,
    admin,
    signingKey,
    clientCredentialsToken: (client) => clientCredentialsToken(tokenEndpoint, client),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets (fetch, JWKS fetchers) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function configuration(o: {
  audience: string;
  registrationResource: string;
  signingKey: DevIdp['signingKey'];
  clients: ClientMetadata[];
  store: MemoryStore;
  errors: Pick<typeof errors, 'InvalidTarget' | 'InvalidClientMetadata'>;
}): Configuration {
  return {
    adapter: memoryAdapter(o.store),
    jwks: { keys: [{ ...o.signingKey, use: 'sig' }] },
    clients: o.clients,
    clientDefaults: { id_token_signed_response_alg: 'ES256' }, // the default RS256 needs an RSA key
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    scopes: ['openid', SCOPE, REGISTRATION_SCOPE],
    // RFC 7591 `software_id`: the IdP adapter tags its registrations with it, the inventory lists by it.
    extraClientMetadata: {
      properties: ['software_id'],
      validator: (_ctx, key, value) => {
        if (key !== 'software_id' || value === undefined) return;
        if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
          throw new o.errors.InvalidClientMetadata('software_id must be a string of 1 to 255 characters');
        }
      },
    },
    ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
    features: {
      devInteractions: { enabled: false }, // no login pages: machine clients only
      clientCredentials: { enabled: true },
      // `true`: initial access tokens are stored models (seeded at start), which can carry policies.
      registration: {
        enabled: true,
        initialAccessToken: true,
        policies: {
          [ROTATE_SECRET_POLICY]: (ctx, properties) => {
            const body = (ctx as unknown as { oidc: { body?: Record<string, unknown> } }).oidc.body ?? {};
            delete properties[ROTATE_CLIENT_SECRET_MEMBER];
            if (ctx.method === 'PUT' && body[ROTATE_CLIENT_SECRET_MEMBER] === true) properties.client_secret = secret();
          },
        },
      },
      registrationManagement: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => o.audience,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource === o.registrationResource) {
            const jwt = { sign: { alg: 'ES256' as const } };
            return { scope: REGISTRATION_SCOPE, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: TOKEN_TTL_SECONDS, jwt };
          }
          if (resource !== o.audience) throw new o.errors.InvalidTarget();
          return {
            scope: SCOPE,
            audience: o.audience,
            accessTokenFormat: 'jwt', // else tokens are opaque and need introspection
            accessTokenTTL: TOKEN_TTL_SECONDS,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  };
}

async function clientCredentialsToken(tokenEndpoint: string, client: DevIdpClient): Promise<string> {
  // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
  const basic = Buffer.from(`${formEncode(client.client_id)}:${formEncode(client.client_secret)}`).toString('base64');
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!response.ok || !body.access_token) {
    throw new Error(`dev IdP refused a client-credentials token for ${client.client_id}: ${response.status} ${body.error ?? ''}`);
  }
  return body.access_token;
}

function staticClient(client: DevIdpClient, scope = SCOPE): ClientMetadata {
  return {
    ...client,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope,
  };
}

/**
 * Does `token` authorize registration as a client-credentials access token? It must be one this
 * IdP signed (RFC 9068 `at+jwt`, ES256, our issuer), for the registration resource, unexpired,
 * and carry the registration scope, which only the admin client may be granted: as Keycloak
 * takes a service account's token only with its `create-client` role. A token for the iam-service
 * audience, or from a client without the scope, is refused like a wrong initial access token.
 */
function registrationCredential(o: { issuer: string; registrationResource: string; signingKey: DevIdp['signingKey'] }) {
  const { d: _private, ...publicJwk } = o.signingKey;
  const key = importJWK(publicJwk, 'ES256');
  return async (token: string): Promise<boolean> => {
    try {
      const { payload } = await jwtVerify(token, await key, { issuer: o.issuer, audience: o.registrationResource, algorithms: ['ES256'], typ: 'at+jwt' });
      return typeof payload.scope === 'string' && payload.scope.split(' ').includes(REGISTRATION_SCOPE);
    } catch {
      return false;
    }
  };
}

async function signingJwk(saved: JsonWebKey | undefined): Promise<DevIdp['signingKey']> {
  const key = saved ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  if (key.kty !== 'EC' || key.crv !== 'P-256' || !key.d) throw new Error('dev IdP signing key must be a private EC P-256 JWK');
  const kid = typeof key.kid === 'string' ? key.kid : await calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y });
  return { ...key, kid, alg: 'ES256' };
}


function secret(): string {
  return randomBytes(32).toString('base64url');
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
