/** The admin API's wire shapes (snake_case, ISO timestamps), one function per resource. */
import type { AuditEntry, Client, Page, Role, Tenant, UserMapping } from './model.js';

export const tenantView = (t: Tenant) => ({
  id: t.id,
  slug: t.slug,
  name: t.name,
  status: t.status,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
});

export const roleView = (r: Role, tenant: string) => ({
  id: r.id,
  tenant,
  name: r.name,
  description: r.description,
  permissions: r.permissions,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
});

export const userView = (m: UserMapping, tenant: string) => ({
  tenant,
  subject: m.subject,
  roles: m.roles,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

/** RFC 7591 names; never the secret or the registration access token (create and rotate add the secret once). */
export const clientView = (c: Client, tenant: string) => ({
  client_id: c.clientId,
  tenant,
  client_name: c.metadata.client_name,
  grant_types: c.metadata.grant_types,
  redirect_uris: c.metadata.redirect_uris,
  scope: c.metadata.scope,
  token_endpoint_auth_method: c.metadata.token_endpoint_auth_method,
  roles: c.roles,
  created_by: c.createdBy,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});

export const auditView = (e: AuditEntry) => ({
  id: e.id,
  occurred_at: e.occurredAt.toISOString(),
  actor: e.actor,
  tenant: e.tenantSlug,
  action: e.action,
  target: e.target,
  result: e.result,
  request_id: e.requestId,
  count: e.count,
});

/** Keyset pagination: the cursor is opaque to callers (base64url of the last sort key). */
export const pageView = <T, V>(page: Page<T>, view: (item: T) => V) => ({
  items: page.items.map(view),
  next_cursor: page.last === undefined ? null : encodeCursor(page.last),
});

export const encodeCursor = (key: string) => Buffer.from(JSON.stringify({ k: key })).toString('base64url');

export function decodeCursor(cursor: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    // Keys are slugs, names, subjects or ids: printable text only (PostgreSQL text holds no NUL).
    return typeof parsed.k === 'string' && /^[^\u0000-\u001f\u007f]{1,255}$/.test(parsed.k) ? parsed.k : undefined;
  } catch {
    return undefined;
  }
}
