/**
 * Policy writes as a bulk `apply` or a provisioning script makes them: one multi-row statement
 * each, naming tenants by slug and roles by name, straight against the policy tables (the
 * triggers keep subject_claims and subject_homes current). Names that do not exist match
 * nothing, so any sequence of these runs without error.
 */
import type { Queryable } from '../../lib/adapters/postgres/database.js';

export type BulkWrite =
  | { op: 'add-subjects'; tenant: string; subjects: string[]; type: 'user' | 'client' }
  | { op: 'map'; tenant: string; subjects: string[]; roles: string[] }
  | { op: 'unmap'; tenant: string; subjects: string[]; roles: string[] }
  | { op: 'set-permissions'; tenant: string; roles: string[]; permissions: string[] }
  | { op: 'describe-roles'; tenant: string; roles: string[] }
  | { op: 'add-roles'; tenant: string; roles: string[] }
  | { op: 'delete-roles'; tenant: string; roles: string[] }
  | { op: 'remove-subjects'; tenant: string; subjects: string[] }
  | { op: 'set-type'; tenant: string; subjects: string[]; type: 'user' | 'client' }
  | { op: 'set-status'; tenants: string[]; status: 'active' | 'suspended' }
  | { op: 'recreate-tenant'; tenant: string };

const TENANT = 'SELECT id FROM tenants WHERE slug = $1';

export async function runBulkWrite(db: Queryable, w: BulkWrite): Promise<void> {
  switch (w.op) {
    case 'add-subjects':
      await db.query('bulk.add_subjects', `INSERT INTO subjects (tenant_id, subject, subject_type) SELECT (${TENANT}), unnest($2::text[]), $3
                                             ON CONFLICT DO NOTHING`, [w.tenant, w.subjects, w.type]);
      return;
    case 'map':
      await db.query('bulk.map', `INSERT INTO subject_roles (tenant_id, subject, role_id)
                                  SELECT s.tenant_id, s.subject, r.id FROM subjects s JOIN roles r ON r.tenant_id = s.tenant_id
                                   WHERE s.tenant_id = (${TENANT}) AND s.subject = ANY ($2) AND r.name = ANY ($3)
                                  ON CONFLICT DO NOTHING`, [w.tenant, w.subjects, w.roles]);
      return;
    case 'unmap':
      await db.query('bulk.unmap', `DELETE FROM subject_roles sr USING roles r
                                     WHERE r.id = sr.role_id AND sr.tenant_id = (${TENANT}) AND sr.subject = ANY ($2) AND r.name = ANY ($3)`,
      [w.tenant, w.subjects, w.roles]);
      return;
    case 'set-permissions':
      await db.query('bulk.set_permissions', `UPDATE roles SET permissions = $3, version = version + 1
                                                WHERE tenant_id = (${TENANT}) AND name = ANY ($2)`, [w.tenant, w.roles, w.permissions]);
      return;
    case 'describe-roles':
      await db.query('bulk.describe_roles', `UPDATE roles SET description = description || '.', version = version + 1
                                               WHERE tenant_id = (${TENANT}) AND name = ANY ($2)`, [w.tenant, w.roles]);
      return;
    case 'add-roles':
      await db.query('bulk.add_roles', `INSERT INTO roles (tenant_id, name, permissions) SELECT (${TENANT}), n, ARRAY[n || ':read']
                                          FROM unnest($2::text[]) n WHERE (${TENANT}) IS NOT NULL ON CONFLICT DO NOTHING`, [w.tenant, w.roles]);
      return;
    case 'delete-roles':
      await db.query('bulk.delete_roles', `DELETE FROM roles WHERE tenant_id = (${TENANT}) AND name = ANY ($2)`, [w.tenant, w.roles]);
      return;
    case 'remove-subjects':
      await db.query('bulk.remove_subjects', `DELETE FROM subjects WHERE tenant_id = (${TENANT}) AND subject = ANY ($2)`, [w.tenant, w.subjects]);
      return;
    case 'set-type':
      await db.query('bulk.set_type', `UPDATE subjects SET subject_type = $3, version = version + 1
                                         WHERE tenant_id = (${TENANT}) AND subject = ANY ($2)`, [w.tenant, w.subjects, w.type]);
      return;
    case 'set-status':
      await db.query('bulk.set_status', 'UPDATE tenants SET status = $2 WHERE slug = ANY ($1)', [w.tenants, w.status]);
      return;
    case 'recreate-tenant':
      await db.query('bulk.delete_tenant', 'DELETE FROM tenants WHERE slug = $1', [w.tenant]);
      await db.query('bulk.create_tenant', 'INSERT INTO tenants (slug, name) VALUES ($1, $1)', [w.tenant]);
      return;
  }
}
