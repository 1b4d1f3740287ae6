/**
 * Access explained, read (lib/admin/explain.ts): a subject's roles with their permissions, and
 * the holders of a permission under the wildcard rule stated there.
 */
import type { AccessReader, Holder } from '../../admin/explain.js';
import type { SubjectType } from '../../policy/claims.js';
import { postgresRepository } from './policy-store.js';
import { toPage } from './rows.js';

// The rule of lib/admin/explain.ts `covers`, on one granted permission `g` and the asked `$2`.
const COVERS = `g = $2 OR g = '*' OR (right(g, 2) = ':*' AND starts_with($2, left(g, -1)))`;

export const postgresAccessReader = postgresRepository<AccessReader>((db) => ({
  async subject(tenantId, subject) {
    const rows = await db.query<{ subject_type: SubjectType; name: string | null; permissions: string[] | null }>(
      'access.subject',
      `SELECT s.subject_type, r.name, r.permissions
         FROM subjects s
         LEFT JOIN subject_roles sr ON sr.tenant_id = s.tenant_id AND sr.subject = s.subject
         LEFT JOIN roles r ON r.id = sr.role_id
        WHERE s.tenant_id = $1 AND s.subject = $2
        ORDER BY r.name`,
      [tenantId, subject],
    );
    if (rows.length === 0) return undefined;
    return {
      subjectType: rows[0]!.subject_type,
      roles: rows.filter((r) => r.name !== null).map((r) => ({ name: r.name!, permissions: r.permissions ?? [] })),
    };
  },
  async holders(tenantId, permission, page) {
    // The tenant's granting roles (a handful), then each one's first subjects after the cursor
    // from the (role_id, subject COLLATE "C") index: a page costs (granting roles × limit) index
    // entries, however many subjects the tenant has. Pages go in byte order, the index's
    // (migrations/1764600000000_subject-roles-by-role-bytewise.sql says why).
    const rows = await db.query<{ subject: string; subject_type: SubjectType; roles: string[] }>(
      'access.holders',
      `WITH granting AS (
         SELECT r.id, r.name FROM roles r
          WHERE r.tenant_id = $1 AND EXISTS (SELECT 1 FROM unnest(r.permissions) AS g WHERE ${COVERS})
       ), held AS (
         SELECT x.subject, g.name FROM granting g
         CROSS JOIN LATERAL (
           SELECT sr.subject FROM subject_roles sr
            WHERE sr.role_id = g.id AND ($3::text IS NULL OR sr.subject COLLATE "C" > $3)
            ORDER BY sr.subject COLLATE "C" LIMIT $4
         ) x
       )
       SELECT h.subject, s.subject_type, array_agg(h.name ORDER BY h.name) AS roles
         FROM held h JOIN subjects s ON s.tenant_id = $1 AND s.subject = h.subject
        GROUP BY h.subject, s.subject_type
        ORDER BY h.subject COLLATE "C" LIMIT $4`,
      [tenantId, permission, page.after ?? null, page.limit + 1],
    );
    return toPage(rows, page, (r): Holder => ({ subject: r.subject, subjectType: r.subject_type, roles: r.roles }), (h) => h.subject);
  },
}));
