/**
 * The admin API's route table: one Lambda function per operation. serverless.yml, the local
 * front, the OpenAPI document and the authorization-matrix test are all checked against it,
 * so a route cannot exist without a declared access requirement.
 */
import type { Access } from './access.js';

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  access: Access;
  /** The file in functions/ that serves it. */
  file: string;
  summary: string;
}

export const ADMIN_ROUTES = {
  createTenant: { method: 'POST', path: '/tenants', access: 'platform', file: 'tenant-create', summary: 'Create a tenant' },
  listTenants: { method: 'GET', path: '/tenants', access: 'platform', file: 'tenant-list', summary: 'List tenants' },
  getTenant: { method: 'GET', path: '/tenants/{tenant}', access: 'tenant', file: 'tenant-get', summary: 'Read a tenant' },
  updateTenant: { method: 'PATCH', path: '/tenants/{tenant}', access: 'platform', file: 'tenant-update', summary: 'Rename, suspend or resume a tenant' },
  deleteTenant: { method: 'DELETE', path: '/tenants/{tenant}', access: 'platform', file: 'tenant-delete', summary: 'Delete a tenant with its roles and mappings' },
  createRole: { method: 'POST', path: '/tenants/{tenant}/roles', access: 'tenant', file: 'role-create', summary: 'Create a role' },
  listRoles: { method: 'GET', path: '/tenants/{tenant}/roles', access: 'tenant', file: 'role-list', summary: 'List the roles of a tenant' },
  getRole: { method: 'GET', path: '/tenants/{tenant}/roles/{role}', access: 'tenant', file: 'role-get', summary: 'Read a role' },
  updateRole: { method: 'PATCH', path: '/tenants/{tenant}/roles/{role}', access: 'tenant', file: 'role-update', summary: 'Change a role’s description or permissions' },
  deleteRole: { method: 'DELETE', path: '/tenants/{tenant}/roles/{role}', access: 'tenant', file: 'role-delete', summary: 'Delete a role (it leaves every mapping)' },
  putUser: { method: 'PUT', path: '/tenants/{tenant}/users/{subject}', access: 'tenant', file: 'user-put', summary: 'Set the roles of a subject in a tenant' },
  listUsers: { method: 'GET', path: '/tenants/{tenant}/users', access: 'tenant', file: 'user-list', summary: 'List the user mappings of a tenant' },
  getUser: { method: 'GET', path: '/tenants/{tenant}/users/{subject}', access: 'tenant', file: 'user-get', summary: 'Read a subject’s mapping' },
  deleteUser: { method: 'DELETE', path: '/tenants/{tenant}/users/{subject}', access: 'tenant', file: 'user-delete', summary: 'Remove a subject from a tenant' },
  createClient: { method: 'POST', path: '/tenants/{tenant}/clients', access: 'tenant', file: 'client-create', summary: 'Register an OAuth client in the IdP (its secret is returned once)' },
  listClients: { method: 'GET', path: '/tenants/{tenant}/clients', access: 'tenant', file: 'client-list', summary: 'List the OAuth clients of a tenant' },
  getClient: { method: 'GET', path: '/tenants/{tenant}/clients/{client}', access: 'tenant', file: 'client-get', summary: 'Read an OAuth client' },
  updateClient: { method: 'PATCH', path: '/tenants/{tenant}/clients/{client}', access: 'tenant', file: 'client-update', summary: 'Change an OAuth client’s metadata or roles (in the IdP too)' },
  deleteClient: { method: 'DELETE', path: '/tenants/{tenant}/clients/{client}', access: 'tenant', file: 'client-delete', summary: 'Delete an OAuth client from the IdP and the tenant' },
  rotateClientSecret: { method: 'POST', path: '/tenants/{tenant}/clients/{client}/secret', access: 'tenant', file: 'client-rotate-secret', summary: 'Issue a new client secret (returned once; the old one stops working)' },
  listTenantAudit: { method: 'GET', path: '/tenants/{tenant}/audit', access: 'tenant', file: 'audit-tenant', summary: 'Read a tenant’s audit trail' },
  listAudit: { method: 'GET', path: '/audit', access: 'platform', file: 'audit-list', summary: 'Read the whole audit trail' },
} as const satisfies Record<string, AdminRoute>;

export type AdminOperation = keyof typeof ADMIN_ROUTES;
