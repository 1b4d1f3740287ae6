/**
 * The admin API's composition: token verification, the policy store, admin scopes, events after
 * commit; and the handler of the route-table operation a function serves (ADMIN_OPERATION).
 */
import type { AccessTokenVerifier, AdminScopeReader, PolicyStore } from '../admin/ports.js';
import { ADMIN_ROUTES, type AdminOperation, type AdminRoute } from '../admin/routes.js';
import type { LambdaHttpHandler } from '../http/stack.js';
import { postgresAdminScope, postgresPolicyStore } from '../adapters/postgres/policy-store.js';
import { postgresRelayOutbox } from '../adapters/postgres/relay-outbox.js';
import { jwtVerifier } from '../adapters/oidc/jwt-verifier.js';
import { type Config, processEnv, requireAdminOperation, requireIdpIssuer } from '../config.js';
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

/**
 * The admin bundle's handler of `operation` (by default the function's ADMIN_OPERATION, which
 * serverless/service-wide.cjs sets from the route table); a client operation is refused: it
 * needs the client bundle (lib/wiring/clients.ts).
 */
export function adminHandler(operation?: string, env: Env = processEnv()): LambdaHttpHandler {
  const route = routeOf(runtime(env).config, 'admin', operation);
  return route.serve(adminRuntime(env), route.operation);
}

/**
 * The route of the operation a function of `bundle` serves (`operation`, else the configured
 * ADMIN_OPERATION), checked before the bundle's other requirements: a wrong operation is the
 * cold start's one ConfigError.
 */
export function routeOf<B extends AdminRoute['bundle']>(config: Config, bundle: B, operation?: string): Extract<AdminRoute, { bundle: B }> & { operation: AdminOperation } {
  return startOrExplain(() => {
    const served = (Object.keys(ADMIN_ROUTES) as AdminOperation[]).filter((name) => ADMIN_ROUTES[name].bundle === bundle);
    const name = requireAdminOperation(config, bundle, served, operation);
    return { ...(ADMIN_ROUTES[name] as AdminRoute as Extract<AdminRoute, { bundle: B }>), operation: name };
  });
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
