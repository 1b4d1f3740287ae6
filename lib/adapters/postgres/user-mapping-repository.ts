import type { Lock, UserMappingRepository } from '../../admin/ports.js';
import type { Queryable } from './database.js';
import { type MappingRow, replaceSubjectRoles, toMapping, toPage } from './rows.js';

const SELECT = `
  SELECT s.tenant_id, s.subject, s.subject_type, s.version, s.created_at, s.updated_at,
         coalesce(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.name IS NOT NULL), '{}') AS roles
    FROM subjects s
    LEFT JOIN subject_roles sr ON sr.tenant_id = s.tenant_id AND sr.subject = s.subject
    LEFT JOIN roles r ON r.id = sr.role_id`;

export function postgresUserMappings(db: Queryable): UserMappingRepository {
  // Locking a mapping is always FOR UPDATE of its subject row (lib/admin/lock-order.ts).
  const get = async (tenantId: string, subject: string, options?: Lock) => {
    if (options?.lock) {
      await db.query('user.lock', 'SELECT 1 FROM subjects WHERE tenant_id = $1 AND subject = $2 FOR UPDATE', [tenantId, subject]);
    }
    const [row] = await db.query<MappingRow>(
      'user.get',
      `${SELECT} WHERE s.tenant_id = $1 AND s.subject = $2 GROUP BY s.tenant_id, s.subject`,
      [tenantId, subject],
    );
    return row && toMapping(row);
  };
  return {
    get,
    async list(tenantId, page) {
      const rows = await db.query<MappingRow>(
        'user.list',
        `${SELECT} WHERE s.tenant_id = $1 AND s.subject_type = 'user' AND ($2::text IS NULL OR s.subject > $2)
          GROUP BY s.tenant_id, s.subject ORDER BY s.subject LIMIT $3`,
        [tenantId, page.after ?? null, page.limit + 1],
      );
      return toPage(rows, page, toMapping, (m) => m.subject);
    },
    async put(tenantId, subject, roles) {
      const [upsert] = await db.query<{ created: boolean }>(
        'user.upsert',
        `INSERT INTO subjects (tenant_id, subject, subject_type) VALUES ($1, $2, 'user')
         ON CONFLICT (tenant_id, subject) DO UPDATE SET version = subjects.version + 1, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [tenantId, subject],
      );
      await replaceSubjectRoles(db, 'user', tenantId, subject, roles);
      return { mapping: (await get(tenantId, subject))!, created: upsert!.created };
    },
    async isClientAnywhere(subject) {
      const [row] = await db.query('user.is_client', "SELECT 1 FROM subjects WHERE subject = $1 AND subject_type = 'client' LIMIT 1", [subject]);
      return row !== undefined;
    },
    async delete(tenantId, subject) {
      await db.query('user.delete', "DELETE FROM subjects WHERE tenant_id = $1 AND subject = $2 AND subject_type = 'user'", [tenantId, subject]);
    },
  };
}
