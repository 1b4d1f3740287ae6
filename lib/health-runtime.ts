/** The IdP health probe's composition: the base runtime plus the checks against R-Auth. */
import { idpChecks } from './adapters/rauth/idp-checks.js';
import { processEnv, requireIdpIssuer } from './config.js';
import type { IdpCheck } from './health/idp-health.js';
import { type Env, type Runtime, runtime, startOrExplain } from './runtime.js';

export interface HealthRuntime extends Runtime {
  checks: IdpCheck[];
}

let current: HealthRuntime | undefined;

export function healthRuntime(env: Env = processEnv()): HealthRuntime {
  current ??= startOrExplain(() => {
    const base = runtime(env);
    const { idp } = base.config;
    return {
      ...base,
      checks: idpChecks({
        issuer: requireIdpIssuer(base.config),
        adminClient: async (options) => (await base.credentials.idp(options)).adminClient,
        audience: idp.audience,
        timeoutMs: idp.timeoutMs,
      }),
    };
  });
  return current;
}
