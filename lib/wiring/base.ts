/**
 * The composition root: builds the real collaborators once per cold start (module scope
 * of each function). A bad configuration fails the cold start with one log line naming
 * every bad variable — the runbook's crash-loop section depends on that line.
 *
 * This module holds what every function needs; lib/wiring/admin.ts and
 * lib/wiring/events.ts add the admin API's and the relay's parts, so enrich-token's bundle
 * carries neither jose nor nats.ws.
 */
import { secretsManagerStore } from '../adapters/aws/secrets-manager.js';
import { postgresClaimsReader } from '../adapters/postgres/claims-reader.js';
import { createDatabase, type Database } from '../adapters/postgres/database.js';
import { type Config, loadConfig, processEnv } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { ClaimsReader } from '../policy/ports.js';
import { type Credentials, credentials } from '../secrets/credentials.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Runtime {
  config: Config;
  /** Every credential, from Secrets Manager where the configuration names a secret. */
  credentials: Credentials;
  log: Logger;
  metrics: Metrics;
  /** The primary, for writes and read-your-writes. */
  db: Database;
  /** enrich-token's lookups; the primary unless DATABASE_READ_URL names a replica. */
  claims: ClaimsReader;
}

let current: Runtime | undefined;

export function runtime(env: Env = processEnv()): Runtime {
  current ??= startOrExplain(() => build(env));
  return current;
}

export function build(env: Env): Runtime {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel, { service: 'iam-service' });
  const metrics = createMetrics(config.metricsNamespace);
  const ids = Object.values(config.secrets.ids).filter(Boolean);
  const { ttlSeconds, minRefreshMs, timeoutMs, endpoint, source, extension } = config.secrets;
  // loadConfig refuses SECRETS_SOURCE=extension without AWS_SESSION_TOKEN.
  const viaExtension = source === 'extension' ? { url: extension.url, sessionToken: extension.sessionToken ?? '' } : undefined;
  const store = ids.length > 0 ? secretsManagerStore({ ttlSeconds, minRefreshIntervalMs: minRefreshMs, timeoutMs, endpoint, extension: viaExtension, log }) : undefined;
  const creds = credentials(config, store);
  const connect = (url: string | undefined) => createDatabase({ ...config.database, url, credentials: creds.database, log, metrics });
  const db = connect(config.database.url);
  const readDb = config.database.readUrl === config.database.url ? db : connect(config.database.readUrl);
  return { config, credentials: creds, log, metrics, db, claims: postgresClaimsReader(readDb) };
}

/** Errors already logged: runtimes nest (client → admin → base), each through startOrExplain. */
const explained = new WeakSet<ConfigError>();

/**
 * Runs a cold-start step; a ConfigError becomes the one log line that names every bad variable.
 * Once per error, however many nested runtimes it passes through on its way out.
 */
export function startOrExplain<T>(start: () => T): T {
  try {
    return start();
  } catch (error) {
    if (error instanceof ConfigError && !explained.has(error)) {
      explained.add(error);
      createLogger('error').error('invalid configuration; refusing to start', {
        invalid: error.issues.map((issue) => `${issue.path}: ${issue.message}`),
      });
    }
    throw error;
  }
}
