/**
 * forward-auth's composition: the base runtime (claims lookup, API keys) plus a verifier for the
 * end user's bearer token, checked against the IdP's JWKS exactly as admin tokens are. Neither
 * the admin API's store nor NATS: its bundle carries jose and pg, and enrich-token's stays
 * without jose.
 */
import { jwtVerifier } from '../adapters/oidc/jwt-verifier.js';
import { processEnv } from '../config.js';
import { ConfigError } from '../errors.js';
import { type BearerVerifier, cachedBearerVerifier } from '../gateway/bearer-verifier.js';
import { type Env, type Runtime, runtime, startOrExplain } from './base.js';
import { idpConnection } from './idp.js';

export interface ForwardAuthRuntime extends Runtime {
  bearer: BearerVerifier;
}

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
    ...idpConnection(base, config.idp.issuer),
  });
  return { ...base, bearer: cachedBearerVerifier(tokens, { tenantClaim: `${config.claims.namespace}tenant` }) };
}
