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
import { jwtVerifier } from './adapters/rauth/jwt-verifier.js';
import { type Config, loadConfig, processEnv, requireIdpIssuer } from './config.js';
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

/** What the admin API functions add: token verification, the policy store, admin scopes. */
export interface AdminRuntime extends Runtime {
  tokens: AccessTokenVerifier;
  store: PolicyStore;
  scopes: AdminScopeReader;
}

let current: Runtime | undefined;
let currentAdmin: AdminRuntime | undefined;

export function runtime(env: Env = processEnv()): Runtime {
  current ??= startOrExplain(() => build(env));
  return current;
}

export function adminRuntime(env: Env = processEnv()): AdminRuntime {
  currentAdmin ??= startOrExplain(() => buildAdmin(runtime(env)));
  return currentAdmin;
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
  return { ...base, tokens, store: postgresPolicyStore(db), scopes: postgresAdminScope(db) };
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
