/**
 * The IdP health probe's composition: the base runtime (its database holds the latest report)
 * plus the checks against R-Auth and the use case that shares one probe among all callers.
 */
import { postgresIdpHealthStore } from '../adapters/postgres/idp-health-store.js';
import { idpChecks } from '../adapters/oidc/idp-checks.js';
import { processEnv, requireIdpIssuer } from '../config.js';
import { type IdpCheck, type IdpHealth, idpHealth } from '../health/idp-health.js';
import { type Env, type Runtime, runtime, startOrExplain } from './base.js';
import { idpConnection } from './idp.js';

export interface HealthRuntime extends Runtime {
  checks: IdpCheck[];
  health: IdpHealth;
}

/**
 * The most R-Auth calls one probe makes: discovery, JWKS, the token grant, and after a refused
 * grant a second grant with re-read credentials, then registration. Each is
 * bounded by IDP_TIMEOUT_MS, so this many timeouts (plus a second of slack) bound a probe.
 */
const MAX_CALLS_PER_PROBE = 5;

let current: HealthRuntime | undefined;

export function healthRuntime(env: Env = processEnv()): HealthRuntime {
  current ??= startOrExplain(() => {
    const base = runtime(env);
    const { idp } = base.config;
    const issuer = requireIdpIssuer(base.config);
    const checks = idpChecks({
      ...idpConnection(base, issuer),
      issuer,
      adminClient: async (options) => (await base.credentials.idp(options)).adminClient,
      audience: idp.audience,
      timeoutMs: idp.timeoutMs,
    });
    const health = idpHealth({
      checks,
      metrics: base.metrics,
      store: postgresIdpHealthStore(base.db),
      log: base.log,
      maxAgeSeconds: idp.healthMaxAgeSeconds,
      leaseSeconds: Math.ceil((MAX_CALLS_PER_PROBE * idp.timeoutMs) / 1000) + 1,
    });
    return { ...base, checks, health };
  });
  return current;
}
