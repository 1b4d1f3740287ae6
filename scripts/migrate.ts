/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL (or the database of DATABASE_SECRET_ID) and maps the bootstrap
 * admin. Idempotent; part of every deployment, run before the new code goes live.
 */
import { migrate } from '../lib/adapters/postgres/migration-runner.js';
import { createLogger } from '../lib/observability/logger.js';
import { runtime } from '../lib/wiring/base.js';
import { primaryDatabaseUrl } from './database-url.js';

const log = createLogger('info', { service: 'iam-service', task: 'migrate' });
try {
  // DATABASE_URL, or with DATABASE_SECRET_ID the credentials from Secrets Manager.
  const databaseUrl = await primaryDatabaseUrl();
  const { config } = runtime();
  await migrate({ databaseUrl, bootstrapAdminSubject: config.bootstrapAdminSubject, log });
} catch (error) {
  log.error('migration failed', {}, error);
  process.exitCode = 1;
}
