/** Writes policy rows straight into a test database (the admin API comes in a later issue). */
import { createDatabase, type Database } from '../../lib/adapters/postgres/database.js';
import { createLogger } from '../../lib/observability/logger.js';

export function testDatabase(url: string): Database {
  return createDatabase({
    url,
    poolMax: 2,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 1_000,
    queryTimeoutMs: 10_000,
    namedStatements: false,
    log: createLogger('error'),
    metrics: { databaseError: () => undefined },
  });
}

export async function addTenant(db: Database, slug: string, status: 'active' | 'suspended' = 'active'): Promise<string> {
  const [row] = await db.query<{ id: string }>('fixture.tenant', 'INSERT INTO tenants (slug, name, status) VALUES ($1, $1, $2) RETURNING id', [slug, status]);
  return row!.id;
}

export async function addRole(db: Database, tenantId: string, name: string, permissions: string[]): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    'fixture.role',
    'INSERT INTO roles (tenant_id, name, permissions) VALUES ($1, $2, $3) RETURNING id',
    [tenantId, name, permissions],
  );
  return row!.id;
}

export async function mapSubject(
  db: Database,
  tenantId: string,
  subject: string,
  roleIds: string[],
  subjectType: 'user' | 'client' = 'user',
): Promise<void> {
  await db.transaction('fixture.map', async (tx) => {
    await tx.query('fixture.subject', 'INSERT INTO subjects (tenant_id, subject, subject_type) VALUES ($1, $2, $3)', [tenantId, subject, subjectType]);
    for (const roleId of roleIds) {
      await tx.query('fixture.subject_role', 'INSERT INTO subject_roles (tenant_id, subject, role_id) VALUES ($1, $2, $3)', [tenantId, subject, roleId]);
    }
  });
}
