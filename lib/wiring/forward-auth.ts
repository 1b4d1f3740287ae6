/**
 * forward-auth's composition: the base runtime (claims lookup, API keys) plus a verifier for the
 * end user's bearer token, checked against the IdP's JWKS exactly as admin tokens are. Neither
 * the admin API's store nor NATS: its bundle carries jose and pg, and enrich-token's stays
 * without jose.
 */
import { jwtVerifier } from '../adapters/rauth/jwt-verifier.js';
import { tenantSlug } from '../gateway/dialects.js';
import { processEnv } from '../config.js';
import { ConfigError, ForbiddenError } from '../errors.js';
import { type Env, type Runtime, runtime, startOrExplain } from './base.js';
import * as z from '../schema.js';

/** Who the end user is, as the verified token says. */
export interface BearerIdentity {
  subject: string;
  /** The token's `<CLAIMS_NAMESPACE>tenant` claim, when it has one. */
  tenant: string | undefined;
  /** RFC 9068 `client_id`: lets the store pick the tenant of the client the user signed in to. */
  clientId: string | undefined;
}

export interface BearerVerifier {
  /** Throws UnauthorizedError for a token that does not verify, DependencyUnavailableError when the IdP is down. */
  verify(token: string): Promise<BearerIdentity>;
}

export interface ForwardAuthRuntime extends Runtime {
  bearer: BearerVerifier;
}

const clientId = z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^[\x21-\x7e]+$/));

let current: ForwardAuthRuntime | undefined;

export function forwardAuthRuntime(env: Env = processEnv()): ForwardAuthRuntime {
  current ??= startOrExplain(() => build(runtime(env)));
  return current;
}

function build(base: Runtime): ForwardAuthRuntime {
  const { config, metrics } = base;
  if (!config.idp.issuer) throw new ConfigError([{ path: 'RAUTH_URL', message: 'is required by forward-auth, which verifies end-user tokens' }]);
  const tokens = jwtVerifier({
    issuer: config.idp.issuer,
    audience: config.idp.forwardAuthAudience,
    algorithms: config.idp.algorithms,
    allowJwtTyp: config.idp.allowJwtTyp,
    timeoutMs: config.idp.timeoutMs,
    metrics,
  });
  const tenantClaim = `${config.claims.namespace}tenant`;
  // A user's token reaches the gateway on every request it makes: a signature check (~0.5 ms of
  // CPU for ES256) per request would dominate. A token verified once is remembered by its exact
  // string until its `exp` (never longer than VERIFIED_TTL_MS, so a JWKS rotation is seen).
  const verified = new Map<string, { identity: BearerIdentity; until: number }>();
  return {
    ...base,
    bearer: {
      async verify(token) {
        const known = verified.get(token);
        if (known && known.until > Date.now()) return known.identity;
        if (known) verified.delete(token);
        const { identity, exp } = await check(token);
        const until = Math.min(Date.now() + VERIFIED_TTL_MS, typeof exp === 'number' ? exp * 1000 : 0);
        if (until > Date.now()) {
          if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!); // oldest first
          verified.set(token, { identity, until });
        }
        return identity;
      },
    },
  };

  async function check(token: string): Promise<{ identity: BearerIdentity; exp: unknown }> {
    const { subject, claims: payload } = await tokens.verify(token);
    const tenant = payload[tenantClaim] === undefined ? undefined : z.safeParse(tenantSlug, payload[tenantClaim]);
    if (tenant && !tenant.success) throw new ForbiddenError(`The access token's "${tenantClaim}" claim is not a tenant slug.`, 'tenant-invalid');
    // Only a hint (the tenant of the client the user signed in to): a malformed one is left out.
    const client = z.safeParse(clientId, payload['client_id']);
    return { identity: { subject, tenant: tenant?.data, clientId: client.success ? client.data : undefined }, exp: payload['exp'] };
  }
}

/** How long a verified token is trusted without checking its signature again, and how many are kept. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;
