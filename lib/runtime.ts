/**
 * The composition root: builds the real collaborators once per cold start (module scope
 * of each function). A bad configuration fails the cold start with one log line naming
 * every bad variable — the runbook's crash-loop section depends on that line.
 */
import type { AccessTokenVerifier } from './admin/access-token.js';
import type { AdminScopeReader, PolicyStore } from './admin/ports.js';
import { postgresClaimsReader } from './adapters/postgres/claims-reader.js';
import { createDatabase, type Database } from './adapters/postgres/database.js';
import { postgresAdminScope, postgresPolicyStore } from './adapters/postgres/policy-store.js';
import { jetStreamPublisher } from './adapters/nats/jetstream-publisher.js';
import { jwtVerifier } from './adapters/rauth/jwt-verifier.js';
import { type Config, loadConfig, processEnv, requireIdpIssuer, requireNatsUrl } from './config.js';
import type { CloudEvent } from './events/catalog.js';
import type { EventPublisher } from './events/publisher.js';
import { publishAfterCommit } from './events/relay.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import type { ClaimsReader } from './policy/policy-store.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** The primary, for writes and read-your-writes. */
  db: Database;
  /** enrich-token's lookups; the primary unless DATABASE_READ_URL names a replica. */
  claims: ClaimsReader;
}

/** What the admin API functions add: token verification, the policy store, admin scopes, events. */
export interface AdminRuntime extends Runtime {
  tokens: AccessTokenVerifier;
  store: PolicyStore;
  scopes: AdminScopeReader;
  /** Publishes a committed change's events within a short budget; without NATS_URL, a no-op. */
  afterCommit: (events: readonly CloudEvent[]) => Promise<unknown>;
}

/** What the outbox relay needs: the database and a publisher. */
export interface EventsRuntime extends Runtime {
  publisher: EventPublisher;
}

let current: Runtime | undefined;
let currentAdmin: AdminRuntime | undefined;
let currentEvents: EventsRuntime | undefined;

export function runtime(env: Env = processEnv()): Runtime {
  current ??= startOrExplain(() => build(env));
  return current;
}

export function adminRuntime(env: Env = processEnv()): AdminRuntime {
  currentAdmin ??= startOrExplain(() => buildAdmin(runtime(env)));
  return currentAdmin;
}

export function eventsRuntime(env: Env = processEnv()): EventsRuntime {
  currentEvents ??= startOrExplain(() => {
    const base = runtime(env);
    return { ...base, publisher: publisherFor(base.config, requireNatsUrl(base.config)) };
  });
  return currentEvents;
}

export function build(env: Env): Runtime {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel, { service: 'iam-service' });
  const metrics = createMetrics(config.metricsNamespace);
  const connect = (url: string) => createDatabase({ ...config.database, url, log, metrics });
  const db = connect(config.database.url);
  const readDb = config.database.readUrl === config.database.url ? db : connect(config.database.readUrl);
  return { config, log, metrics, db, claims: postgresClaimsReader(readDb) };
}

function buildAdmin(base: Runtime): AdminRuntime {
  const { config, metrics, db } = base;
  const tokens = jwtVerifier({
    issuer: requireIdpIssuer(config),
    audience: config.idp.audience,
    algorithms: config.idp.algorithms,
    timeoutMs: config.idp.timeoutMs,
    metrics,
  });
  return { ...base, tokens, store: postgresPolicyStore(db), scopes: postgresAdminScope(db), afterCommit: afterCommit(base) };
}

function publisherFor(config: Config, url: string): EventPublisher {
  const { connectTimeoutMs, publishTimeoutMs } = config.nats;
  return jetStreamPublisher({ url, connectTimeoutMs, publishTimeoutMs, name: 'iam-service' });
}

function afterCommit({ config, db, log }: Runtime): AdminRuntime['afterCommit'] {
  const url = config.nats.url;
  if (!url) {
    // Said once per cold start, not per request: the relay publishes them once NATS_URL is set.
    log.info('NATS_URL is not set: events stay in the outbox until the relay publishes them');
    return async () => 0;
  }
  const publisher = publisherFor(config, url);
  return (events) => publishAfterCommit({ db, publisher, log }, events, { budgetMs: config.nats.afterCommitBudgetMs });
}

function startOrExplain<T>(start: () => T): T {
  try {
    return start();
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger('error').error('invalid configuration; refusing to start', {
        invalid: error.issues.map((issue) => `${issue.path}: ${issue.message}`),
      });
    }
    throw error;
  }
}
