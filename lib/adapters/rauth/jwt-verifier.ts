/**
 * Verifies admin bearer tokens inside the service, whatever sits in front: a JWT signed by a
 * key in the issuer's JWKS (found through OIDC discovery, cached by jose), with `iss`, `aud`,
 * `exp` and `nbf` checked and only allow-listed algorithms (never `none`).
 */
import * as jose from 'jose';
import type { AccessTokenVerifier } from '../../admin/access-token.js';
import { DependencyUnavailableError, UnauthorizedError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  timeoutMs: number;
  metrics: Pick<Metrics, 'idpError'>;
  fetch?: typeof fetch;
}

/** RFC 6750 §3: a presented token that fails verification is `invalid_token`. */
const CHALLENGE = 'Bearer realm="iam-service", error="invalid_token"';
const MAX_DISCOVERY_BYTES = 64 * 1024;

export function jwtVerifier(options: JwtVerifierOptions): AccessTokenVerifier {
  const doFetch = options.fetch ?? fetch;
  let jwks: Promise<ReturnType<typeof jose.createRemoteJWKSet>> | undefined;

  const keySet = () => {
    jwks ??= discoverJwksUri(options, doFetch).then((uri) =>
      jose.createRemoteJWKSet(new URL(uri), { timeoutDuration: options.timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 600_000 }),
    );
    // A failed discovery is retried by the next request instead of being cached.
    jwks.catch(() => (jwks = undefined));
    return jwks;
  };

  return {
    async verify(token) {
      const keys = await keySet();
      let payload: jose.JWTPayload;
      try {
        ({ payload } = await jose.jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...options.algorithms],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: 5,
        }));
      } catch (error) {
        throw translate(error, options);
      }
      // jose checks that `sub` is present, not that it is a usable subject.
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) {
        throw new UnauthorizedError('The access token has no usable "sub" claim.', CHALLENGE);
      }
      return { subject: payload.sub, claims: payload };
    },
  };
}

async function discoverJwksUri(options: JwtVerifierOptions, doFetch: typeof fetch): Promise<string> {
  const url = `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  try {
    const response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'application/json' } });
    const text = await response.text();
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    if (text.length > MAX_DISCOVERY_BYTES) throw new Error('discovery document too large');
    const document = JSON.parse(text) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== options.issuer) throw new Error('discovery document names another issuer');
    if (typeof document.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
    return document.jwks_uri;
  } catch (error) {
    options.metrics.idpError('discovery');
    throw new DependencyUnavailableError('identity provider', error);
  }
}

function translate(error: unknown, options: JwtVerifierOptions): Error {
  const { errors } = jose;
  // Not a verdict on the token: the key set could not be fetched (network, timeout, bad JWKS).
  if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    options.metrics.idpError('jwks');
    return new DependencyUnavailableError('identity provider', error);
  }
  if (error instanceof errors.JWTExpired) return new UnauthorizedError('The access token has expired.', CHALLENGE);
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthorizedError(`The access token's "${error.claim}" claim is not acceptable.`, CHALLENGE);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new UnauthorizedError('The access token is signed with an algorithm that is not allowed.', CHALLENGE);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthorizedError('The access token signature does not verify against the issuer keys.', CHALLENGE);
  }
  return new UnauthorizedError('The access token is not a valid JWT.', CHALLENGE);
}
