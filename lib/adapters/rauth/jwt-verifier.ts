/**
 * Verifies admin bearer tokens inside the service, whatever sits in front: a JWT signed by a
 * key in the issuer's JWKS (found through OIDC discovery, cached by jose), with `iss`, `aud`,
 * `exp` and `nbf` checked, only allow-listed algorithms (never `none`), and a `typ` header that
 * says "access token" (RFC 9068 `at+jwt`): an ID token or another JWT the same issuer signs for
 * the same audience is not a credential here (RFC 8725 §3.11). Some IdPs type their access
 * tokens only `JWT`: `allowJwtTyp` (ADMIN_TOKEN_ALLOW_JWT_TYP) accepts that too.
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
  /** Also accept `typ: JWT` (IdPs that do not issue RFC 9068 tokens); never a token without `typ`. */
  allowJwtTyp?: boolean;
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
      let header: jose.JWTHeaderParameters;
      try {
        ({ payload, protectedHeader: header } = await jose.jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...options.algorithms],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: 5,
        }));
      } catch (error) {
        throw translate(error, options);
      }
      // Checked on the verified header. The reason names the header, never the token or its value.
      const typ = typeof header.typ === 'string' ? normalizeTyp(header.typ) : undefined;
      if (typ === undefined) throw new UnauthorizedError('The access token has no "typ" header; an RFC 9068 access token ("at+jwt") is required.', CHALLENGE);
      if (!(typ === 'at+jwt' || (typ === 'jwt' && options.allowJwtTyp === true))) {
        throw new UnauthorizedError(`The access token's "typ" header is not ${options.allowJwtTyp ? '"at+jwt" or "JWT"' : '"at+jwt"'}: it is not an access token.`, CHALLENGE);
      }
      // jose checks that `sub` is present, not that it is a usable subject.
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) {
        throw new UnauthorizedError('The access token has no usable "sub" claim.', CHALLENGE);
      }
      return { subject: payload.sub, claims: payload };
    },
  };
}

/** RFC 7515 §4.1.9: a media type, case-insensitive, whose `application/` prefix may be left out. */
const normalizeTyp = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

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
