/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL and maps the bootstrap
 * admin. Idempotent; part of every deployment, run before the new code goes live.
 */
import { migrate } from '../lib/adapters/postgres/migrate.js';
import { loadConfig, processEnv } from '../lib/config.js';
import { createLogger } from '../lib/observability/logger.js';

const log = createLogger('info', { service: 'iam-service', task: 'migrate' });
try {
  const config = loadConfig(processEnv());
  await migrate({ databaseUrl: config.database.url, bootstrapAdminSubject: config.bootstrapAdminSubject, log });
} catch (error) {
  log.error('migration failed', {}, error);
  process.exitCode = 1;
}
