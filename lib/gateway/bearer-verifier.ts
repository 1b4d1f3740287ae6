/**
 * forward-auth's end user, as their verified access token says. The signature check itself is
 * the IdP adapter's (lib/adapters/oidc/jwt-verifier.ts, jose); this adds what the gateway reads
 * from the token and a cache in front of the check.
 */
import { ForbiddenError } from '../errors.js';
import * as z from '../schema.js';
import { tenantSlug } from './named-tenant.js';
import type { TokenSignatureVerifier } from './ports.js';

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

export interface BearerCacheOptions {
  /** The claim that names the tenant: `<CLAIMS_NAMESPACE>tenant`. */
  tenantClaim: string;
  /** How long a verified token is trusted without checking its signature again. */
  ttlMs?: number;
  /** How many verified tokens are kept (oldest dropped first). */
  maxEntries?: number;
  now?: () => number;
}

const clientId = z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^[\x21-\x7e]+$/));

/**
 * A user's token reaches the gateway on every request it makes: a signature check (~0.5 ms of
 * CPU for ES256) per request would dominate. A token verified once is remembered by its exact
 * string until its `exp` (never longer than `ttlMs`, 60 s, so a JWKS rotation is seen). Only
 * successes are remembered: a refused token is checked again.
 */
export function cachedBearerVerifier(tokens: TokenSignatureVerifier, options: BearerCacheOptions): BearerVerifier {
  const { tenantClaim, ttlMs = 60_000, maxEntries = 10_000, now = Date.now } = options;
  const verified = new Map<string, { identity: BearerIdentity; until: number }>();

  async function check(token: string): Promise<{ identity: BearerIdentity; exp: unknown }> {
    const { subject, claims: payload } = await tokens.verify(token);
    const tenant = payload[tenantClaim] === undefined ? undefined : z.safeParse(tenantSlug, payload[tenantClaim]);
    if (tenant && !tenant.success) throw new ForbiddenError(`The access token's "${tenantClaim}" claim is not a tenant slug.`, 'tenant-invalid');
    // Only a hint (the tenant of the client the user signed in to): a malformed one is left out.
    const client = z.safeParse(clientId, payload['client_id']);
    return { identity: { subject, tenant: tenant?.data, clientId: client.success ? client.data : undefined }, exp: payload['exp'] };
  }

  return {
    async verify(token) {
      const known = verified.get(token);
      if (known && known.until > now()) return known.identity;
      if (known) verified.delete(token);
      const { identity, exp } = await check(token);
      const until = Math.min(now() + ttlMs, typeof exp === 'number' ? exp * 1000 : 0);
      if (until > now()) {
        if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!); // oldest first
        verified.set(token, { identity, until });
      }
      return identity;
    },
  };
}
