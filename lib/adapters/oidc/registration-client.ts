/**
 * The IdP adapter for client management: RFC 7591 registration and RFC 7592 read/update/delete.
 *
 * - Registration is openid-client's `dynamicClientRegistration`, through the transport, with the
 *   initial access token from `credentials` (a static token, or one obtained by the
 *   client-credentials grant: ./registration-credential.ts). The discovery it makes is answered
 *   from the shared, cached one (./discovery.ts), or from `registrationEndpoint` when configured.
 * - openid-client has no RFC 7592 helpers, so read/update/delete are the transport's `exchange`
 *   with the client's registration access token (./transport.ts: deadline, byte cap, no redirects).
 * - Every registration carries this service's RFC 7591 `software_id`, and every update sends it
 *   again (an RFC 7592 PUT replaces all metadata): the inventory (./inventory-client.ts) finds our
 *   clients in the IdP by it.
 * - Responses are validated; only known members are kept, so nothing unexpected is echoed.
 *   A 2xx carrying `error` is a failure.
 * - Caller mistakes (4xx with an RFC 7591 code) → IdpRejectedError, not counted. IdP trouble
 *   (5xx, timeout, oversize, malformed, our credentials refused) → IdpUnavailableError, counted in
 *   `idp_adapter_errors_total{operation}` and logged without tokens or bodies.
 * - A 401 on registration re-reads the credentials once and retries once (rotation without a
 *   restart). On an RFC 7592 call a 404 means the client is gone; a 401 means the registration
 *   access token was refused (RFC 7592 §2.1: gone, or a token the IdP has replaced since) and is
 *   IdpTokenRejectedError, which the use cases settle through the admin API. A DELETE answered 401
 *   is never taken as done: the client may still get tokens.
 */
import * as oidc from 'openid-client';
import * as z from '../../schema.js';
import {
  IdpClientGoneError,
  IdpRejectedError,
  IdpTokenRejectedError,
  type ClientMetadata,
  type ClientRef,
  type ClientRegistration,
  type IdpAdmin,
} from '../../admin/idp-admin.js';
import { oidcDiscovery, type OidcDiscovery } from './discovery.js';
import { withRegistrationCredential } from './registration-credential.js';
import { idpTransport, isLoopbackHttp, parseJsonObject, Trouble, type IdpAnswer, type IdpTransport, type TransportOptions } from './transport.js';

export type { IdpOperation } from './transport.js';

/** The PUT body member that asks for a new client_secret (see local/dev-idp.ts). */
export const ROTATE_CLIENT_SECRET_MEMBER = 'rotate_client_secret';

/** The bearer token that authorizes registration; `fresh` after the IdP refused the last one. */
export type RegistrationCredentials = (options?: { fresh?: boolean }) => Promise<{ initialAccessToken: string }>;

/** What both IdP client adapters take: the transport's bounds and counting, and the registration credential. */
export interface IdpHttpOptions extends TransportOptions {
  credentials: RegistrationCredentials;
  /** The composition root's one transport; built from the options above when absent. */
  transport?: IdpTransport | undefined;
}

export interface RegistrationClientOptions extends IdpHttpOptions {
  issuer: string;
  /** Skips discovery when set. */
  registrationEndpoint?: string | undefined;
  /** RFC 7591 `software_id` this service tags its clients with; the inventory lists by it. */
  softwareId: string;
  /** The composition root's one discovery; built over `issuer` when absent. */
  discovery?: OidcDiscovery | undefined;
}

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const registrationSchema = z.object({
  client_id: text(255),
  client_secret: z.optional(text(1024)),
  registration_client_uri: text(2048),
  registration_access_token: text(4096),
  client_name: z.optional(z.string().check(z.maxLength(1024))),
  grant_types: z.optional(z.array(text(255)).check(z.maxLength(32))),
  redirect_uris: z.optional(z.array(text(2048)).check(z.maxLength(64))),
  scope: z.optional(z.string().check(z.maxLength(4096))),
  token_endpoint_auth_method: z.optional(text(255)),
  error: z.optional(z.unknown()),
});
type RegistrationBody = z.infer<typeof registrationSchema>;

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

export function registrationClient(options: RegistrationClientOptions): IdpAdmin {
  const http = options.transport ?? idpTransport(options);
  const { counted, guarded } = http;
  const discovery = options.discovery ?? oidcDiscovery({ issuer: options.issuer, transport: http, timeoutMs: options.timeoutMs });
  const issuer = discovery.issuer;
  const toAnswer = ({ status, bytes }: IdpAnswer): Answer => ({ status, body: parseJsonObject(bytes) });
  const exchange = async (url: URL, init: { method: string; token: string; body?: unknown }) => toAnswer(await http.exchange(url, init));
  const requestBody = (metadata: ClientMetadata) => ({ ...metadataBody(metadata), software_id: options.softwareId });

  /** What registration runs against: the configured endpoint, else the shared discovery's. */
  async function server(): Promise<{ metadata: oidc.ServerMetadata; endpoint: URL }> {
    return guarded('discovery', async () => {
      const metadata = options.registrationEndpoint
        ? { issuer: options.issuer, registration_endpoint: options.registrationEndpoint }
        : await discovery.metadata();
      const value = metadata.registration_endpoint;
      if (typeof value !== 'string') throw new Trouble('discovery document names no registration_endpoint');
      const endpoint = new URL(value);
      if (endpoint.protocol !== 'https:' && !(isLoopbackHttp(issuer) && endpoint.origin === issuer.origin)) throw new Trouble('insecure registration_endpoint');
      return { metadata, endpoint };
    });
  }

  /** RFC 7591 by openid-client; the IdP's answer as a status and a body, whatever it was. */
  async function post(known: oidc.ServerMetadata, metadata: ClientMetadata, token: string): Promise<Answer> {
    try {
      const registered = await oidc.dynamicClientRegistration(issuer, requestBody(metadata) as Partial<oidc.ClientMetadata>, oidc.None(), {
        ...discovery.requestOptions(known),
        initialAccessToken: token,
      });
      return { status: 201, body: { ...registered.clientMetadata() } };
    } catch (error) {
      if (error instanceof oidc.ResponseBodyError) return { status: error.status, body: { ...error.cause } };
      if (error instanceof oidc.WWWAuthenticateChallengeError) return { status: error.status, body: undefined };
      throw new Trouble('registration failed', undefined, { cause: error });
    }
  }

  /** A 2xx with a registration body, else the right error. */
  function registration(answer: Answer, expected: { clientId?: string; endpoint: URL }): RegistrationBody {
    if (answer.status >= 500) throw new Trouble(`IdP answered ${answer.status}`, answer.status);
    if (answer.status >= 400) {
      const code = answer.body?.error;
      throw new IdpRejectedError(typeof code === 'string' ? code : undefined);
    }
    if (answer.status < 200 || answer.status >= 300) throw new Trouble(`unexpected status ${answer.status}`, answer.status);
    if (answer.body && 'error' in answer.body) throw new Trouble('success status carrying an error member', answer.status);
    const parsed = registrationSchema.safeParse(answer.body);
    if (!parsed.success) throw new Trouble('malformed registration response', answer.status, { cause: parsed.error });
    if (expected.clientId !== undefined && parsed.data.client_id !== expected.clientId) throw new Trouble('response names another client', answer.status);
    // We will send the registration access token to this URI later: it must stay on the IdP.
    let uri: URL;
    try {
      uri = new URL(parsed.data.registration_client_uri);
    } catch (cause) {
      throw new Trouble('registration_client_uri is not a URL', answer.status, { cause });
    }
    if (uri.origin !== expected.endpoint.origin) throw new Trouble('registration_client_uri leaves the IdP', answer.status);
    return parsed.data;
  }

  function toRegistration(body: RegistrationBody, fallback?: ClientMetadata): ClientRegistration {
    return {
      client_id: body.client_id,
      registration_client_uri: body.registration_client_uri,
      registration_access_token: body.registration_access_token,
      client_name: body.client_name ?? fallback?.client_name ?? '',
      grant_types: body.grant_types ?? fallback?.grant_types ?? [],
      redirect_uris: body.redirect_uris ?? fallback?.redirect_uris ?? [],
      scope: body.scope ?? fallback?.scope ?? '',
      token_endpoint_auth_method: body.token_endpoint_auth_method ?? fallback?.token_endpoint_auth_method ?? '',
    };
  }

  function managementUri(ref: ClientRef): URL {
    try {
      return new URL(ref.registration_client_uri);
    } catch (cause) {
      throw new Trouble('stored registration_client_uri is not a URL', undefined, { cause });
    }
  }

  /** RFC 7592 §2.1: 401 is a refused token (stale or client gone), 404 a client gone. */
  function settled(status: number, clientId: string): 'gone' | undefined {
    if (status === 401) throw new IdpTokenRejectedError(clientId);
    return status === 404 ? 'gone' : undefined;
  }

  async function put(operation: 'update' | 'rotate', ref: ClientRef, metadata: ClientMetadata) {
    return guarded(operation, async () => {
      const uri = managementUri(ref);
      const body = {
        ...requestBody(metadata),
        client_id: ref.client_id,
        ...(operation === 'rotate' ? { [ROTATE_CLIENT_SECRET_MEMBER]: true } : {}),
      };
      const answer = await exchange(uri, { method: 'PUT', token: ref.registration_access_token, body });
      if (settled(answer.status, ref.client_id) === 'gone') throw new IdpClientGoneError(ref.client_id);
      return registration(answer, { clientId: ref.client_id, endpoint: uri });
    });
  }

  return {
    async register(metadata) {
      const { metadata: known, endpoint } = await server();
      return guarded('create', async () => {
        const answer = await withRegistrationCredential(options.credentials, options.log, 'create', (token) => post(known, metadata, token));
        const body = registration(answer, { endpoint });
        return { ...toRegistration(body, metadata), ...(body.client_secret === undefined ? {} : { client_secret: body.client_secret }) };
      });
    },

    async read(ref) {
      return guarded('read', async () => {
        const uri = managementUri(ref);
        const answer = await exchange(uri, { method: 'GET', token: ref.registration_access_token });
        if (settled(answer.status, ref.client_id) === 'gone') return undefined;
        return toRegistration(registration(answer, { clientId: ref.client_id, endpoint: uri }));
      });
    },

    async update(ref, metadata) {
      return toRegistration(await put('update', ref, metadata), metadata);
    },

    async rotateSecret(ref, metadata) {
      const body = await put('rotate', ref, metadata);
      if (body.client_secret === undefined) throw counted('rotate', new Trouble('IdP issued no new client_secret'));
      return { ...toRegistration(body, metadata), client_secret: body.client_secret };
    },

    async delete(ref) {
      await guarded('delete', async () => {
        const answer = await exchange(managementUri(ref), { method: 'DELETE', token: ref.registration_access_token });
        if (answer.status === 204 || answer.status === 200 || settled(answer.status, ref.client_id) === 'gone') {
          if (answer.body && 'error' in answer.body && answer.status === 200) throw new Trouble('success status carrying an error member', 200);
          return;
        }
        if (answer.status >= 400 && answer.status < 500) throw new IdpRejectedError(typeof answer.body?.error === 'string' ? answer.body.error : undefined);
        throw new Trouble(`IdP answered ${answer.status}`, answer.status);
      });
    },
  };
}

/** RFC 7591 metadata as sent (the admin API takes the same members). A client without the code grant asks for no response types. */
export function metadataBody(metadata: ClientMetadata): Record<string, unknown> {
  return {
    client_name: metadata.client_name,
    grant_types: metadata.grant_types,
    redirect_uris: metadata.redirect_uris,
    response_types: metadata.grant_types.includes('authorization_code') ? ['code'] : [],
    // RFC 7591 §2: scope is optional; an empty one is not a scope (oidc-provider refuses it).
    ...(metadata.scope ? { scope: metadata.scope } : {}),
    token_endpoint_auth_method: metadata.token_endpoint_auth_method,
  };
}
