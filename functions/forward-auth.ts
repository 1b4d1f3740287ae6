/**
 * /system/forward-auth, any method — the gateway's check on every request: nginx `auth_request`,
 * Traefik ForwardAuth, Envoy `ext_authz` (HTTP service). The gateway proves itself with X-API-Key
 * (the enrich-token keys); the end user's bearer token and the auth URL's tenant are read by the
 * forward-auth dialect (lib/gateway/forward-auth.ts), which answers 200 with X-Auth-* headers,
 * 401, 403, 400 or 503 (README, "Security").
 */
import { answer } from '../lib/gateway/dialect.js';
import { forwardAuth } from '../lib/gateway/forward-auth.js';
import { apiKeyOrIamCaller } from '../lib/http/caller-auth.js';
import { httpFunction } from '../lib/http/stack.js';
import type { ClaimsQuery } from '../lib/policy/claims.js';
import { enrichToken } from '../lib/policy/resolve-claims.js';
import { forwardAuthRuntime } from '../lib/wiring/forward-auth.js';

const app = forwardAuthRuntime();
const dialect = forwardAuth({ profile: app.config.claims, bearer: app.bearer });
const findClaims = (query: ClaimsQuery) => enrichToken(app, query);

export const handler = httpFunction(
  app,
  {
    name: '/system/forward-auth',
    // Authorization is the end user's: the gateway proves itself with X-API-Key only (no Basic).
    authenticate: apiKeyOrIamCaller(app.credentials.enrichApiKeys),
  },
  async (event, context) => {
    context.dialect = dialect.name;
    return answer(dialect, dialect.parse(event), findClaims);
  },
);
