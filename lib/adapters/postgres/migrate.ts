/**
 * Applies migrations/ in order (node-pg-migrate, plain SQL, forward-only in practice) and
 * maps BOOTSTRAP_ADMIN_SUBJECT to the platform admin role. Safe to run twice: applied
 * migrations are recorded in `pgmigrations`, and the bootstrap mapping is an upsert.
 * It takes node-pg-migrate's advisory lock, so run it against the primary, not RDS Proxy.
 */
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../../observability/logger.js';
import { createDatabase } from './database.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
export const PLATFORM_TENANT_ID = '00000000-0000-4000-8000-000000000001';
export const PLATFORM_ADMIN_ROLE_ID = '00000000-0000-4000-8000-000000000002';

export interface MigrateOptions {
  databaseUrl: string;
  bootstrapAdminSubject?: string | undefined;
  log: Logger;
}

export async function migrate({ databaseUrl, bootstrapAdminSubject, log }: MigrateOptions): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
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
  const db = createDatabase({
    url: databaseUrl,
    poolMax: 1,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 1_000,
    queryTimeoutMs: 10_000,
    namedStatements: false,
    log,
    metrics: { databaseError: () => undefined },
  });
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
