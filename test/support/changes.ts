/** What the outbox and the audit log gained while a test did something. */
import type { Database } from '../../lib/adapters/postgres/database.js';

export interface OutboxRow extends Record<string, unknown> {
  id: string;
  subject: string;
  event: Record<string, any>;
}

export interface AuditRow extends Record<string, unknown> {
  actor: string;
  tenant_id: string | null;
  tenant_slug: string | null;
  action: string;
  target: string;
  result: string;
  request_id: string;
}

/** What the outbox and the audit log gained during `work`. */
export async function changes<T>(db: Database, work: () => Promise<T>): Promise<{ result: T; events: OutboxRow[]; audit: AuditRow[] }> {
  const known = new Set((await db.query<{ id: string }>('test.outbox_ids', 'SELECT id::text FROM outbox')).map((r) => r.id));
  const [{ mark }] = (await db.query<{ mark: string }>('test.audit_mark', 'SELECT coalesce(max(id), 0)::text AS mark FROM audit_log')) as [{ mark: string }];
  const result = await work();
  const events = (await db.query<OutboxRow>('test.outbox', 'SELECT id::text, subject, event FROM outbox ORDER BY created_at')).filter((r) => !known.has(r.id));
  const audit = await db.query<AuditRow>(
    'test.audit',
    'SELECT actor, tenant_id::text, tenant_slug, action, target, result, request_id FROM audit_log WHERE id > $1::bigint ORDER BY id',
    [mark],
  );
  return { result, events, audit };
}
