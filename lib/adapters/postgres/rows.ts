/** Row shapes and their mapping to the domain; keyset paging shared by every list. */
import type { Queryable } from './database.js';
import type { Page, PageRequest, Role, Tenant, TenantStatus, UserMapping } from '../../admin/model.js';
import type { Lock } from '../../admin/ports.js';

const LOCK_CLAUSES = { share: ' FOR SHARE', 'no-key-update': ' FOR NO KEY UPDATE', update: ' FOR UPDATE' } as const;

/**
 * The locking clause for a `Lock` option ('' for none; `true` is FOR UPDATE). `FOR NO KEY
 * UPDATE` is what an UPDATE that keeps the key takes: it leaves foreign-key checks
 * (`FOR KEY SHARE`) of inserts elsewhere alone, where FOR UPDATE would make them wait.
 */
export const forLock = (lock: Lock['lock'], of = ''): string =>
  !lock ? '' : `${LOCK_CLAUSES[lock === true ? 'update' : lock]}${of && ` OF ${of}`}`;

export interface TenantRow extends Record<string, unknown> {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  status: r.status,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface RoleRow extends Record<string, unknown> {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  permissions: string[];
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const toRole = (r: RoleRow): Role => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  description: r.description,
  permissions: r.permissions,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface MappingRow extends Record<string, unknown> {
  tenant_id: string;
  subject: string;
  subject_type: 'user' | 'client';
  roles: string[];
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const toMapping = (r: MappingRow): UserMapping => ({
  tenantId: r.tenant_id,
  subject: r.subject,
  subjectType: r.subject_type,
  roles: r.roles,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * Lists fetch one row more than asked: its presence says another page follows, and the
 * last returned item's key becomes the cursor.
 */
export function toPage<R, T>(rows: R[], page: PageRequest, map: (row: R) => T, key: (item: T) => string): Page<T> {
  const items = rows.slice(0, page.limit).map(map);
  const more = rows.length > page.limit;
  const last = items.at(-1);
  return { items, last: more && last !== undefined ? key(last) : undefined };
}

/** Replaces a subject's roles in a tenant (users and clients alike); unknown names are skipped. */
export async function replaceSubjectRoles(db: Queryable, kind: 'user' | 'client', tenantId: string, subject: string, roles: readonly string[]) {
  await db.query(`${kind}.clear_roles`, 'DELETE FROM subject_roles WHERE tenant_id = $1 AND subject = $2', [tenantId, subject]);
  await db.query(
    `${kind}.set_roles`,
    `INSERT INTO subject_roles (tenant_id, subject, role_id)
     SELECT $1, $2, id FROM roles WHERE tenant_id = $1 AND name = ANY ($3::text[])`,
    [tenantId, subject, roles],
  );
}
