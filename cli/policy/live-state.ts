/**
 * What the admin API holds, read into the policy file's shape: the caller's scope (`GET /me`), and each
 * tenant with its roles, user mappings and clients (metadata and roles; the API never returns a
 * secret).
 */
import { type AdminApi, ApiProblem, seg } from './admin-api.js';
import { CliError } from './cli-error.js';
import { byCodeUnit, type ClientSpec, type PolicyDocument, type RoleSpec, sortedSet, type TenantSpec } from './model.js';

/** Who the token is for the admin API: a platform admin (every tenant), or the admin of `tenants` (sorted; maybe none). */
export interface CallerScope {
  subject: string;
  platformAdmin: boolean;
  tenants: string[];
}

/** `GET /me`, which any valid token may call: nothing is probed, so a tenant admin's run leaves no `denied` audit row. */
export async function callerScope(api: AdminApi): Promise<CallerScope> {
  const { body } = await api.request<{ subject: string; platform_admin: boolean; tenants: string[] }>('GET', '/me');
  return { subject: body.subject, platformAdmin: body.platform_admin, tenants: body.tenants };
}

/** The named tenants the caller does not administer (none for a platform admin): refused without asking the API about them. */
export const outsideScope = (scope: CallerScope, slugs: readonly string[]): string[] =>
  scope.platformAdmin ? [] : slugs.filter((slug) => !scope.tenants.includes(slug));

/** Why a tenant is refused to this caller. */
export const notAdministered = (scope: CallerScope, slug: string): string =>
  `tenant ${slug}: not this token's tenant (${scope.subject} administers ${scope.tenants.length > 0 ? scope.tenants.join(', ') : 'no tenant'})`;

export interface LiveClient extends Required<ClientSpec> {
  client_id: string;
}

export interface LiveTenant {
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  roles: Record<string, Required<RoleSpec>>;
  users: Record<string, string[]>;
  clients: LiveClient[];
}

/** The tenant as the caller may see it, or undefined when the API answers 404 (absent, or not the caller's). */
export async function readTenant(api: AdminApi, slug: string): Promise<LiveTenant | undefined> {
  let tenant: { slug: string; name: string; status: 'active' | 'suspended' };
  try {
    tenant = (await api.request('GET', `/tenants/${seg(slug)}`)).body;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return undefined;
    throw error;
  }
  const base = `/tenants/${seg(slug)}`;
  const [roles, users, clients] = await Promise.all([api.list(`${base}/roles`), api.list(`${base}/users`), api.list(`${base}/clients`)]);
  return {
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    roles: Object.fromEntries(roles.map((r) => [r.name, { description: r.description ?? '', permissions: sortedSet(r.permissions) }])),
    users: Object.fromEntries(users.map((u) => [u.subject, sortedSet(u.roles)])),
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_name: c.client_name,
      grant_types: sortedSet(c.grant_types),
      redirect_uris: sortedSet(c.redirect_uris),
      scope: c.scope,
      token_endpoint_auth_method: c.token_endpoint_auth_method,
      roles: sortedSet(c.roles),
    })),
  };
}

/** The slugs to export: those named (each one the caller's), else every tenant for a platform admin, else the caller's own. */
export async function tenantsToExport(api: AdminApi, scope: CallerScope, named: string[]): Promise<string[]> {
  if (named.length > 0) {
    const outside = outsideScope(scope, named);
    if (outside.length > 0) throw new CliError(outside.map((slug) => notAdministered(scope, slug)).join('\n'));
    return sortedSet(named);
  }
  if (scope.platformAdmin) return (await api.list<{ slug: string }>('/tenants')).map((t) => t.slug).sort(byCodeUnit);
  if (scope.tenants.length === 0) throw new CliError(`this token (${scope.subject}) administers no tenant: there is nothing it may export`);
  return sortedSet(scope.tenants);
}

/** A live tenant in the file's shape, every section present, everything sorted. */
export function asSpec(tenant: LiveTenant): TenantSpec {
  const roles = Object.keys(tenant.roles).sort(byCodeUnit);
  const users = Object.keys(tenant.users).sort(byCodeUnit);
  const clients = [...tenant.clients].sort((a, b) => byCodeUnit(a.client_name, b.client_name) || byCodeUnit(a.client_id, b.client_id));
  return {
    name: tenant.name,
    status: tenant.status,
    roles: Object.fromEntries(roles.map((name) => [name, tenant.roles[name]!])),
    users: Object.fromEntries(users.map((subject) => [subject, tenant.users[subject]!])),
    clients,
  };
}

export async function exportPolicy(api: AdminApi, scope: CallerScope, named: string[]): Promise<PolicyDocument> {
  const slugs = await tenantsToExport(api, scope, named);
  const tenants: Record<string, TenantSpec> = {};
  for (const slug of slugs) {
    const tenant = await readTenant(api, slug);
    if (!tenant) throw new CliError(`tenant ${slug}: the API answers 404 (it does not exist, or this token may not see it)`);
    tenants[slug] = asSpec(tenant);
  }
  return { version: 1, tenants };
}
