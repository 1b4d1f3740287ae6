/**
 * /system/forward-auth, any method — the gateway's check on every request: nginx `auth_request`,
 * Traefik ForwardAuth, Envoy `ext_authz` (HTTP service). The gateway proves itself with X-API-Key
 * (the enrich-token keys); the end user's `Authorization: Bearer` token is verified against the
 * IdP's JWKS; the subject's current policy (never the token's own role claims) comes back as
 * X-Auth-* headers on an empty 200.
 *
 * | outcome                                                              | answer                     |
 * | -------------------------------------------------------------------- | -------------------------- |
 * | allowed                                                              | 200 + X-Auth-Subject, -Tenant, -Roles, -Permissions |
 * | no token, or one that does not verify (bad, expired, foreign key)   | 401 + WWW-Authenticate: Bearer |
 * | a subject in no tenant, or naming one it is not in (unknown, suspended or not a member: the same 403), suspended member, several tenants and no home, over the claim budget | 403 |
 * | an auth URL query it cannot understand (lib/gateway/forward-auth-query.ts) | 400        |
 * | store or IdP down                                                    | 503 (nginx: 500; all deny) |
 *
 * The tenant comes from the verified token or from the auth URL's `tenant` query parameter, on
 * `/system/forward-auth`, its trailing slash or any path under it, behind any stage or base-path
 * prefix (lib/gateway/forward-auth-query.ts says whose `tenant=` is whose with Envoy). Nothing
 * else a gateway passes on is read: X-Tenant, X-Auth-*, X-Forwarded-*, X-Original-URI.
 */
import { AppError, ForbiddenError, UnauthorizedError } from '../lib/errors.js';
import { forwardAuthRuntime } from '../lib/wiring/forward-auth.js';
import { deny, forwardHeaders } from '../lib/gateway/dialects.js';
import { operatorTenant } from '../lib/gateway/forward-auth-query.js';
import { apiKeyOrIamCaller } from '../lib/http/caller-auth.js';
import { httpFunction } from '../lib/http/stack.js';
import { tokenClaims } from '../lib/policy/claim-profile.js';
import type { Claims } from '../lib/policy/claims.js';
import { enrichToken } from '../lib/policy/enrich-token.js';

const NAME = '/system/forward-auth';
// RFC 9110 §11.1, §11.4: the scheme is case-insensitive and followed by one or more spaces.
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;
const CHALLENGE = 'Bearer realm="iam-service"';
/** What a header value may carry unchanged through every gateway: visible ASCII, inner spaces. */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

const app = forwardAuthRuntime();
const profile = app.config.claims;

export const handler = httpFunction(
  app,
  {
    name: NAME,
    // Authorization is the end user's: the gateway proves itself with X-API-Key only (no Basic).
    authenticate: apiKeyOrIamCaller(app.credentials.enrichApiKeys),
  },
  async (event, context) => {
    context.dialect = 'forward-auth';
    const configured = { tenant: operatorTenant(event.rawPath, event.rawQueryString) };
    const bearer = BEARER.exec(event.headers?.authorization ?? '');
    if (!bearer) throw new UnauthorizedError('An Authorization: Bearer <access token> header is required.', CHALLENGE);
    const user = await app.bearer.verify(bearer[1]!);
    try {
      if (!HEADER_SAFE.test(user.subject)) throw new ForbiddenError('The subject cannot travel in a header: it is not printable ASCII.', 'subject-not-header-safe');
      if (user.tenant && configured.tenant && user.tenant !== configured.tenant) {
        throw new ForbiddenError(`The access token is for tenant "${user.tenant}", not "${configured.tenant}".`, 'tenant-mismatch');
      }
      const claims = await enrichToken(app, { subject: user.subject, tenant: user.tenant ?? configured.tenant, clientId: user.clientId });
      tokenClaims(claims, profile); // the same byte budget as a token: these become upstream headers
      return { status: 200, headers: upstreamHeaders(claims) };
    } catch (error) {
      throw error instanceof AppError ? deny(error) : error;
    }
  },
);

function upstreamHeaders(claims: Claims): Record<string, string> {
  return Object.fromEntries(Object.entries(forwardHeaders(claims)).map(([name, [value]]) => [name, value]));
}
