/**
 * Applies migrations/ in order (node-pg-migrate, plain SQL, forward-only in practice) and
 * maps BOOTSTRAP_ADMIN_SUBJECT to the platform admin role. Safe to run twice: applied
 * migrations are recorded in `pgmigrations`, and the bootstrap mapping is an upsert.
 * It takes node-pg-migrate's advisory lock, so run it against the primary, not RDS Proxy.
 * It refuses a checkout whose migrations differ from migrations/checksums.txt before it connects:
 * an edited migration would leave databases that ran the old text with another schema.
 */
import { runner } from 'node-pg-migrate';
import type { Logger } from '../../observability/logger.js';
import { createDatabase, type Database } from './database.js';
import { checkChecksums, EDITED_MESSAGE, MIGRATIONS_DIR, MISSING_MESSAGE } from './migration-files.js';

export { MIGRATIONS_DIR };
export const PLATFORM_TENANT_ID = '00000000-0000-4000-8000-000000000001';
export const PLATFORM_ADMIN_ROLE_ID = '00000000-0000-4000-8000-000000000002';

export interface MigrateOptions {
  databaseUrl: string;
  bootstrapAdminSubject?: string | undefined;
  log: Logger;
  /** migrations/ unless a test points elsewhere. */
  dir?: string;
}

export class EditedMigrationError extends Error {
  constructor(readonly files: readonly string[]) {
    super(`migrations differ from migrations/checksums.txt: ${files.join(', ')}; ${EDITED_MESSAGE}`);
  }
}

export async function migrate({ databaseUrl, bootstrapAdminSubject, log, dir = MIGRATIONS_DIR }: MigrateOptions): Promise<string[]> {
  const { edited, missing } = checkChecksums(dir);
  if (edited.length > 0) throw new EditedMigrationError(edited);
  // A new migration without its line yet is normal while it is being written; the tests fail on it.
  if (missing.length > 0) log.warn('migrations without a checksum', { migrations: missing, detail: MISSING_MESSAGE });
  const applied = await runner({
    databaseUrl,
    dir,
    // Only *.sql are migrations (checksums.txt sits beside them).
    ignorePattern: '(?!.*\\.sql$).*',
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    singleTransaction: true,
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg) => log.warn('migration warning', { detail: String(msg) }),
      error: (msg) => log.error('migration error', { detail: String(msg) }),
    },
  });
  const names = applied.map((migration) => migration.name);
  log.info('migrations applied', { count: names.length, migrations: names });
  if (bootstrapAdminSubject) await mapBootstrapAdmin(databaseUrl, bootstrapAdminSubject, log);
  return names;
}

async function mapBootstrapAdmin(databaseUrl: string, subject: string, log: Logger): Promise<void> {
  const db = oneConnection(databaseUrl, log);
  try {
    await db.transaction('bootstrap_admin', async (tx) => {
      await tx.query(
        'bootstrap_admin.subject',
        `INSERT INTO subjects (tenant_id, subject, subject_type) VALUES ($1, $2, 'user')
         ON CONFLICT (tenant_id, subject) DO NOTHING`,
        [PLATFORM_TENANT_ID, subject],
      );
      await tx.query(
        'bootstrap_admin.role',
        `INSERT INTO subject_roles (tenant_id, subject, role_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [PLATFORM_TENANT_ID, subject, PLATFORM_ADMIN_ROLE_ID],
      );
    });
    log.info('bootstrap platform admin mapped', { tenant: 'platform', role: 'platform-admin' });
  } finally {
    await db.end();
  }
}

/** One connection for a one-off task (migrate's bootstrap mapping, rollback's check), not a request path. */
export function oneConnection(databaseUrl: string, log: Logger): Database {
  return createDatabase({
    url: databaseUrl,
    poolMax: 1,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 1_000,
    queryTimeoutMs: 10_000,
    namedStatements: false,
    log,
    metrics: { databaseError: () => undefined },
  });
}
