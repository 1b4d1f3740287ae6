/**
 * The IdP's metadata, discovered once per container by openid-client (which checks that the
 * document names the configured issuer) through the transport, and shared by everything that
 * needs an endpoint: the JWT verifier (jwks_uri), registration (registration_endpoint), the
 * client-credentials grant (token_endpoint) and the health probe. A failed discovery is not
 * cached: the next call tries again. `fresh` (the health probe) discovers anew.
 *
 * openid-client refuses http:// issuers; `allowInsecureRequests` is set only for a loopback one
 * (the dev IdP), as config.ts allows no other http:// issuer.
 */
import * as oidc from 'openid-client';
import { isLoopbackHttp, type IdpTransport } from './transport.js';

export interface AdminClient {
  id: string;
  secret: string;
}

export interface OidcDiscovery {
  readonly issuer: URL;
  /** The discovered metadata (cached); `fresh` discovers again and replaces the cache. */
  metadata(options?: { fresh?: boolean }): Promise<oidc.ServerMetadata>;
  /** An openid-client Configuration over the cached metadata, calling through the transport. */
  configuration(client?: AdminClient): Promise<oidc.Configuration>;
  /**
   * Options for openid-client calls that discover for themselves (`dynamicClientRegistration`):
   * the transport as `customFetch`, except that the discovery document is answered from the
   * cache (`metadata`), so such a call costs no second discovery.
   */
  requestOptions(metadata: oidc.ServerMetadata): oidc.DiscoveryRequestOptions;
}

export interface DiscoveryOptions {
  issuer: string;
  transport: IdpTransport;
  /** Deadline of openid-client's own requests, in ms (the transport enforces it too). */
  timeoutMs: number;
}

/** Where openid-client looks for the document (`algorithm: 'oidc'`, its default). */
const wellKnown = (issuer: URL) => new URL(`${issuer.pathname.replace(/\/$/, '')}/.well-known/openid-configuration`, issuer).href;

export function oidcDiscovery(options: DiscoveryOptions): OidcDiscovery {
  const issuer = new URL(options.issuer);
  const insecure = isLoopbackHttp(issuer);
  const timeout = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const execute = insecure ? [oidc.allowInsecureRequests] : [];
  let cached: Promise<oidc.ServerMetadata> | undefined;

  const discover = () =>
    oidc
      .discovery(issuer, 'iam-service', undefined, undefined, { execute, timeout, [oidc.customFetch]: (url, init) => options.transport.fetch(url, init as RequestInit) })
      .then((configuration) => configuration.serverMetadata());

  const metadata: OidcDiscovery['metadata'] = (request) => {
    if (request?.fresh || !cached) {
      const attempt = discover();
      cached = attempt;
      attempt.catch(() => {
        if (cached === attempt) cached = undefined; // a failure is retried by the next caller
      });
    }
    return cached;
  };

  return {
    issuer,
    metadata,

    async configuration(client) {
      const configuration = new oidc.Configuration(await metadata(), client?.id ?? 'iam-service', undefined, client ? oidc.ClientSecretBasic(client.secret) : undefined);
      configuration[oidc.customFetch] = (url, init) => options.transport.fetch(url, init as RequestInit);
      configuration.timeout = timeout;
      for (const extension of execute) extension(configuration);
      return configuration;
    },

    requestOptions(known) {
      const document = wellKnown(issuer);
      return {
        execute,
        timeout,
        [oidc.customFetch]: async (url, init) =>
          url === document && init.method === 'GET' ? Response.json(known) : options.transport.fetch(url, init as RequestInit),
      };
    },
  };
}
