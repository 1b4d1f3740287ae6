import type { AuditEntry } from '../../admin/model.js';
import type { AuditLog } from '../../admin/ports.js';
import type { Queryable } from './database.js';
import { toPage } from './rows.js';

/** A denied request's target is the raw path the caller chose: kept to this many characters. */
export const DENIED_TARGET_MAX = 256;

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
  count: number;
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
  count: r.count,
});

/** The first `max` code points (never half of a surrogate pair), marked with … when cut. */
const truncate = (text: string, max: number) => {
  const points = Array.from(text.slice(0, 2 * max));
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : points.join('');
};

export function postgresAuditLog(db: Queryable): AuditLog {
  return {
    async append(e) {
      if (e.result === 'denied') {
        // One row per (actor, tenant, action) and minute, counting (migration 1764200000100):
        // ON CONFLICT makes concurrent denials of one bucket add up instead of racing. The row
        // keeps the first denial's target and request id.
        await db.query(
          'audit.append_denied',
          `INSERT INTO audit_log (actor, tenant_id, tenant_slug, action, target, result, request_id, denied_minute)
           VALUES ($1, coalesce($2, (SELECT id FROM tenants WHERE slug = $3)), $3, $4, $5, 'denied', $6, date_trunc('minute', now(), 'UTC'))
           ON CONFLICT (actor, (coalesce(tenant_slug, '')), action, denied_minute) WHERE denied_minute IS NOT NULL
           DO UPDATE SET count = audit_log.count + 1`,
          [e.actor, e.tenantId, e.tenantSlug, e.action, truncate(e.target, DENIED_TARGET_MAX), e.requestId],
        );
        return;
      }
      await db.query(
        'audit.append',
        `INSERT INTO audit_log (actor, tenant_id, tenant_slug, action, target, result, request_id)
         VALUES ($1, coalesce($2, (SELECT id FROM tenants WHERE slug = $3)), $3, $4, $5, $6, $7)`,
        [e.actor, e.tenantId, e.tenantSlug, e.action, e.target, e.result, e.requestId],
      );
    },
    async list({ tenantId }, page) {
      // Newest first; the cursor is the last id seen.
      const rows = await db.query<AuditRow>(
        'audit.list',
        `SELECT id, occurred_at, actor, tenant_id, tenant_slug, action, target, result, request_id, count
           FROM audit_log
          WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::bigint IS NULL OR id < $2)
          ORDER BY id DESC LIMIT $3`,
        [tenantId ?? null, page.after ?? null, page.limit + 1],
      );
      return toPage(rows, page, toEntry, (e) => e.id);
    },
  };
}
