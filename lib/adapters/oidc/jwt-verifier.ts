/**
 * Verifies admin bearer tokens inside the service, whatever sits in front: a JWT signed by a
 * key in the issuer's JWKS (its URL from the shared discovery, ./discovery.ts; the keys fetched
 * through the transport and cached by jose), with `iss`, `aud`,
 * `exp` and `nbf` checked, only allow-listed algorithms (never `none`), and a `typ` header that
 * says "access token" (RFC 9068 `at+jwt`): an ID token or another JWT the same issuer signs for
 * the same audience is not a credential here (RFC 8725 §3.11). Some IdPs type their access
 * tokens only `JWT`: `allowJwtTyp` (ADMIN_TOKEN_ALLOW_JWT_TYP) accepts that too.
 * Keys that cannot be had (discovery or JWKS down, slow, oversized, nonsense) are the IdP being
 * unavailable (IdpUnavailableError, counted as `discovery` or `jwks`), never a verdict on the token.
 */
import * as jose from 'jose';
import type { AccessTokenVerifier } from '../../admin/ports.js';
import { UnauthorizedError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import { oidcDiscovery, type OidcDiscovery } from './discovery.js';
import { idpTransport, Trouble, type IdpTransport } from './transport.js';

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  timeoutMs: number;
  /** Also accept `typ: JWT` (IdPs that do not issue RFC 9068 tokens); never a token without `typ`. */
  allowJwtTyp?: boolean;
  metrics: Pick<Metrics, 'idpError'>;
  /** Byte cap on the discovery document and the JWKS (IDP_MAX_RESPONSE_BYTES); default 256 KiB. */
  maxResponseBytes?: number | undefined;
  fetch?: typeof fetch;
  /** The composition root's one transport and discovery; built from the options above when absent. */
  transport?: IdpTransport | undefined;
  discovery?: OidcDiscovery | undefined;
}

/** RFC 6750 §3: a presented token that fails verification is `invalid_token`. */
const CHALLENGE = 'Bearer realm="iam-service", error="invalid_token"';
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;

export function jwtVerifier(options: JwtVerifierOptions): AccessTokenVerifier {
  const transport =
    options.transport ??
    idpTransport({ timeoutMs: options.timeoutMs, maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, fetch: options.fetch, metrics: options.metrics });
  const discovery = options.discovery ?? oidcDiscovery({ issuer: options.issuer, transport, timeoutMs: options.timeoutMs });
  let jwks: Promise<ReturnType<typeof jose.createRemoteJWKSet>> | undefined;

  // The key set's URL comes from the shared discovery; jose fetches and caches the keys, through
  // the same transport. A failed discovery is retried by the next request instead of being cached.
  const keySet = () => {
    jwks ??= transport.guarded('discovery', async () => {
      const uri = (await discovery.metadata()).jwks_uri;
      if (typeof uri !== 'string') throw new Trouble('discovery document names no jwks_uri');
      return jose.createRemoteJWKSet(new URL(uri), {
        timeoutDuration: options.timeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
        [jose.customFetch]: (url, init) => transport.fetch(url, init as RequestInit),
      });
    });
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
        throw translate(error, transport);
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

function translate(error: unknown, transport: IdpTransport): Error {
  const { errors } = jose;
  // Not a verdict on the token: the key set could not be fetched (network, timeout, oversize, a
  // non-200 or non-JSON answer: jose's generic JOSEError) or is no key set.
  const keysUnavailable =
    !(error instanceof errors.JOSEError) || error.code === 'ERR_JOSE_GENERIC' || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid;
  if (keysUnavailable) return transport.counted('jwks', error);
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
