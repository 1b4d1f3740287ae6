import type { RoleRepository } from '../../admin/ports.js';
import { ConflictError } from '../../errors.js';
import { isConstraintViolation, type Queryable, UNIQUE_VIOLATION } from './database.js';
import { forLock, type RoleRow, toPage, toRole } from './rows.js';

const COLUMNS = 'id, tenant_id, name, description, permissions, version, created_at, updated_at';

export function postgresRoles(db: Queryable): RoleRepository {
  return {
    async create(tenantId, { name, description, permissions }) {
      try {
        const [row] = await db.query<RoleRow>(
          'role.create',
          `INSERT INTO roles (tenant_id, name, description, permissions) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
          [tenantId, name, description, permissions],
        );
        return toRole(row!);
      } catch (error) {
        if (isConstraintViolation(error, UNIQUE_VIOLATION)) {
          throw new ConflictError(`Role "${name}" already exists in this tenant.`, 'role-exists');
        }
        throw error;
      }
    },
    async get(tenantId, name, options) {
      const [row] = await db.query<RoleRow>(
        options?.lock ? 'role.get_locked' : 'role.get',
        `SELECT ${COLUMNS} FROM roles WHERE tenant_id = $1 AND name = $2${forLock(options?.lock)}`,
        [tenantId, name],
      );
      return row && toRole(row);
    },
    async list(tenantId, page) {
      const rows = await db.query<RoleRow>(
        'role.list',
        `SELECT ${COLUMNS} FROM roles WHERE tenant_id = $1 AND ($2::text IS NULL OR name > $2) ORDER BY name LIMIT $3`,
        [tenantId, page.after ?? null, page.limit + 1],
      );
      return toPage(rows, page, toRole, (r) => r.name);
    },
    async update(tenantId, name, change) {
      const [row] = await db.query<RoleRow>(
        'role.update',
        `UPDATE roles SET description = coalesce($3, description), permissions = coalesce($4, permissions),
                version = version + 1, updated_at = now()
          WHERE tenant_id = $1 AND name = $2 RETURNING ${COLUMNS}`,
        [tenantId, name, change.description ?? null, change.permissions ?? null],
      );
      return toRole(row!);
    },
    async delete(tenantId, name) {
      // The mappings that held it change: new versions (ETags) for them. Then the role goes, and
      // its subject_roles rows with it (ON DELETE CASCADE): it leaves every mapping. Their rows
      // are locked first, sorted (an UPDATE … FROM locks in join order): two deletes of roles
      // that share subjects then queue instead of deadlocking (lib/admin/lock-order.ts).
      await db.query(
        'role.delete.lock_mappings',
        `SELECT 1 FROM subjects s JOIN subject_roles sr ON sr.tenant_id = s.tenant_id AND sr.subject = s.subject
                                  JOIN roles r ON r.id = sr.role_id
          WHERE r.tenant_id = $1 AND r.name = $2 ORDER BY s.tenant_id, s.subject FOR UPDATE OF s`,
        [tenantId, name],
      );
      await db.query(
        'role.delete.touch_mappings',
        `UPDATE subjects s SET version = s.version + 1, updated_at = now()
           FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
          WHERE r.tenant_id = $1 AND r.name = $2 AND s.tenant_id = sr.tenant_id AND s.subject = sr.subject`,
        [tenantId, name],
      );
      await db.query('role.delete', 'DELETE FROM roles WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
    },
    async lockShared(tenantId, names) {
      await db.query('role.lock_shared', 'SELECT 1 FROM roles WHERE tenant_id = $1 AND name = ANY ($2::text[]) ORDER BY id FOR SHARE', [tenantId, names]);
    },
    async missing(tenantId, names) {
      const rows = await db.query<{ name: string }>(
        'role.missing',
        `SELECT n AS name FROM unnest($2::text[]) AS n
          WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = $1 AND r.name = n) ORDER BY n`,
        [tenantId, names],
      );
      return rows.map((r) => r.name);
    },
  };
}
