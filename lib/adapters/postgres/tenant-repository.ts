import type { TenantRepository } from '../../admin/ports.js';
import { ConflictError } from '../../errors.js';
import { isConstraintViolation, type Queryable, UNIQUE_VIOLATION } from './database.js';
import { forLock, type TenantRow, toPage, toTenant } from './rows.js';

const COLUMNS = 'id, slug, name, status, version, created_at, updated_at';

export function postgresTenants(db: Queryable): TenantRepository {
  return {
    async create({ slug, name, status }) {
      try {
        const [row] = await db.query<TenantRow>(
          'tenant.create',
          `INSERT INTO tenants (slug, name, status) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
          [slug, name, status],
        );
        return toTenant(row!);
      } catch (error) {
        if (isConstraintViolation(error, UNIQUE_VIOLATION)) {
          throw new ConflictError(`Tenant "${slug}" already exists.`, 'tenant-exists');
        }
        throw error;
      }
    },
    async get(slug, options) {
      const [row] = await db.query<TenantRow>(
        options?.lock ? 'tenant.get_locked' : 'tenant.get',
        `SELECT ${COLUMNS} FROM tenants WHERE slug = $1${forLock(options?.lock)}`,
        [slug],
      );
      return row && toTenant(row);
    },
    async list(page) {
      const rows = await db.query<TenantRow>(
        'tenant.list',
        `SELECT ${COLUMNS} FROM tenants WHERE ($1::text IS NULL OR slug > $1) ORDER BY slug LIMIT $2`,
        [page.after ?? null, page.limit + 1],
      );
      return toPage(rows, page, toTenant, (t) => t.slug);
    },
    async update(slug, change) {
      const [row] = await db.query<TenantRow>(
        'tenant.update',
        `UPDATE tenants SET name = coalesce($2, name), status = coalesce($3, status),
                version = version + 1, updated_at = now()
          WHERE slug = $1 RETURNING ${COLUMNS}`,
        [slug, change.name ?? null, change.status ?? null],
      );
      return toTenant(row!);
    },
    async delete(slug) {
      await db.query('tenant.delete', 'DELETE FROM tenants WHERE slug = $1', [slug]);
    },
    async countPlatformAdmins() {
      const [row] = await db.query<{ n: number }>(
        'tenant.count_platform_admins',
        `SELECT count(*)::int AS n FROM subject_claims
          WHERE tenant_slug = 'platform' AND tenant_status = 'active' AND claims::jsonb->'permissions' ? 'iam:*'`,
      );
      return row!.n;
    },
    async countClients(tenantId) {
      const [row] = await db.query<{ n: number }>('tenant.count_clients', 'SELECT count(*)::int AS n FROM clients WHERE tenant_id = $1', [tenantId]);
      return row!.n;
    },
  };
}
