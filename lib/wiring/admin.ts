/** The admin API's composition: token verification, the policy store, admin scopes, events after commit. */
import type { AccessTokenVerifier, AdminScopeReader, PolicyStore } from '../admin/ports.js';
import { postgresAdminScope, postgresPolicyStore } from '../adapters/postgres/policy-store.js';
import { postgresRelayOutbox } from '../adapters/postgres/relay-outbox.js';
import { jwtVerifier } from '../adapters/oidc/jwt-verifier.js';
import { processEnv, requireIdpIssuer } from '../config.js';
import type { CloudEvent } from '../events/catalog.js';
import { publishAfterCommit } from '../events/relay.js';
import { publisherFor } from './events.js';
import { type Env, type Runtime, runtime, startOrExplain } from './base.js';

export interface AdminRuntime extends Runtime {
  tokens: AccessTokenVerifier;
  store: PolicyStore;
  scopes: AdminScopeReader;
  /** Publishes a committed change's events within a short budget; without NATS_URL, a no-op. */
  afterCommit: (events: readonly CloudEvent[]) => Promise<unknown>;
}

let current: AdminRuntime | undefined;

export function adminRuntime(env: Env = processEnv()): AdminRuntime {
  current ??= startOrExplain(() => build(runtime(env)));
  return current;
}

function build(base: Runtime): AdminRuntime {
  const { config, metrics, db } = base;
  const tokens = jwtVerifier({
    issuer: requireIdpIssuer(config),
    audience: config.idp.audience,
    algorithms: config.idp.algorithms,
    allowJwtTyp: config.idp.allowJwtTyp,
    timeoutMs: config.idp.timeoutMs,
    metrics,
  });
  return { ...base, tokens, store: postgresPolicyStore(db), scopes: postgresAdminScope(db), afterCommit: afterCommit(base) };
}

function afterCommit(base: Runtime): AdminRuntime['afterCommit'] {
  const { config, db, log } = base;
  const url = config.nats.url;
  if (!url) {
    // Said once per cold start, not per request: the relay publishes them once NATS_URL is set.
    log.info('NATS_URL is not set: events stay in the outbox until the relay publishes them');
    return async () => 0;
  }
  const deps = { outbox: postgresRelayOutbox(db), publisher: publisherFor(base, url), log };
  return (events) => publishAfterCommit(deps, events, { budgetMs: config.nats.afterCommitBudgetMs });
}
