/**
 * forward-auth: nginx `auth_request`, Traefik ForwardAuth, Envoy `ext_authz` (HTTP service).
 * The end user's `Authorization: Bearer` token is verified (lib/gateway/bearer-verifier.ts); the
 * subject's current policy (never the token's own role claims) comes back as X-Auth-* headers
 * on an empty 200.
 *
 * | outcome                                                              | answer                     |
 * | -------------------------------------------------------------------- | -------------------------- |
 * | allowed                                                              | 200 + X-Auth-Subject, -Tenant, -Roles, -Permissions |
 * | no token, or one that does not verify (bad, expired, foreign key)   | 401 + WWW-Authenticate: Bearer |
 * | a subject in no tenant, or naming one it is not in (unknown, suspended or not a member: the same 403), suspended member, several tenants and no home, over the claim budget | 403 |
 * | an auth URL query it cannot understand (forward-auth-query.ts)      | 400                        |
 * | store or IdP down                                                    | 503 (nginx: 500; all deny) |
 *
 * The tenant comes from the verified token or from the auth URL's `tenant` query parameter
 * (forward-auth-query.ts says where and whose). Nothing else a gateway passes on is read:
 * X-Tenant, X-Auth-*, X-Forwarded-*, X-Original-URI.
 */
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { BEARER_CHALLENGE, bearerToken } from '../http/bearer-token.js';
import type { HttpEvent } from '../http/types.js';
import { type ClaimProfile, tokenClaims } from '../policy/claim-profile.js';
import type { BearerVerifier } from './bearer-verifier.js';
import { deny, type GatewayDialect } from './dialect.js';
import { operatorTenant } from './forward-auth-query.js';
import { upstreamHeaders } from './upstream-headers.js';

/** What a header value may carry unchanged through every gateway: visible ASCII, inner spaces. */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export interface ForwardAuthRequest {
  /** The tenant the operator wrote into the auth URL, if any. */
  tenant: string | undefined;
  token: string;
}

export function forwardAuth(deps: { profile: ClaimProfile; bearer: BearerVerifier }): GatewayDialect<HttpEvent, ForwardAuthRequest> {
  return {
    name: 'forward-auth',
    parse(event) {
      const tenant = operatorTenant(event.rawPath, event.rawQueryString);
      const token = bearerToken(event.headers?.authorization);
      if (token === undefined) throw new UnauthorizedError('An Authorization: Bearer <access token> header is required.', BEARER_CHALLENGE);
      return { tenant, token };
    },
    async query({ tenant, token }) {
      const user = await deps.bearer.verify(token);
      if (!HEADER_SAFE.test(user.subject)) throw new ForbiddenError('The subject cannot travel in a header: it is not printable ASCII.', 'subject-not-header-safe');
      if (user.tenant && tenant && user.tenant !== tenant) {
        throw new ForbiddenError(`The access token is for tenant "${user.tenant}", not "${tenant}".`, 'tenant-mismatch');
      }
      return { subject: user.subject, tenant: user.tenant ?? tenant, clientId: user.clientId };
    },
    allow(_request, claims) {
      tokenClaims(claims, deps.profile); // the same byte budget as a token: these become upstream headers
      const headers = Object.fromEntries(Object.entries(upstreamHeaders(claims)).map(([name, [value]]) => [name, value]));
      return { status: 200, headers };
    },
    refuse: deny,
  };
}
