import type { AuditEntry } from '../../admin/model.js';
import type { AuditLog } from '../../admin/ports.js';
import type { Queryable } from './database.js';
import { toPage } from './rows.js';

interface AuditRow extends Record<string, unknown> {
  id: string;
  occurred_at: Date;
  actor: string;
  tenant_id: string | null;
  tenant_slug: string | null;
  action: string;
  target: string;
  result: AuditEntry['result'];
  request_id: string;
}

const toEntry = (r: AuditRow): AuditEntry => ({
  id: String(r.id),
  occurredAt: r.occurred_at,
  actor: r.actor,
  tenantId: r.tenant_id,
  tenantSlug: r.tenant_slug,
  action: r.action,
  target: r.target,
  result: r.result,
  requestId: r.request_id,
});

export function postgresAuditLog(db: Queryable): AuditLog {
  return {
    async append(e) {
      await db.query(
        'audit.append',
        // A denied request names its tenant by slug only: resolve the id so the tenant's trail shows it.
        `INSERT INTO audit_log (actor, tenant_id, tenant_slug, action, target, result, request_id)
         VALUES ($1, coalesce($2, (SELECT id FROM tenants WHERE slug = $3)), $3, $4, $5, $6, $7)`,
        [e.actor, e.tenantId, e.tenantSlug, e.action, e.target, e.result, e.requestId],
      );
    },
    async list({ tenantId }, page) {
      // Newest first; the cursor is the last id seen.
      const rows = await db.query<AuditRow>(
        'audit.list',
        `SELECT id, occurred_at, actor, tenant_id, tenant_slug, action, target, result, request_id
           FROM audit_log
          WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::bigint IS NULL OR id < $2)
          ORDER BY id DESC LIMIT $3`,
        [tenantId ?? null, page.after ?? null, page.limit + 1],
      );
      return toPage(rows, page, toEntry, (e) => e.id);
    },
  };
}
