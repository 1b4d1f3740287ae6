/**
 * The admin API's route table, the one place a route is declared: method, path, access
 * requirement, summary, its Lambda function's name, which bundle serves it (`admin`, or
 * `clients` for the operations that call the IdP), its body schema and the use case that
 * answers it. Each operation is still its own Lambda function: serverless/service-wide.cjs
 * generates the functions, their routes and their alarm groups from this table at package time,
 * and functions/admin-api.ts / client-api.ts build the handler of the operation a function's
 * ADMIN_OPERATION names. The local front, the OpenAPI document and the authorization matrix
 * are checked against it, so a route cannot exist without a declared access requirement.
 */
import { adminRoute, clientRoute } from './admin-function.js';
import { listAudit } from './audit.js';
import { clientMetadataError, createClient, deleteClient, getClient, listClients, rotateClientSecret, updateClient } from './clients.js';
import { explainClient, explainUser, permissionParam, whoHas } from './explain.js';
import { whoAmI } from './me.js';
import { createRole, deleteRole, getRole, listRoles, updateRole } from './roles.js';
import { createClientBody, createRoleBody, createTenantBody, putUserBody, updateClientBody, updateRoleBody, updateTenantBody } from './schemas.js';
import { createTenant, deleteTenant, getTenant, listTenants, updateTenant } from './tenants.js';
import { deleteUser, getUser, listUsers, putUser } from './users.js';
import { postgresAccessReader } from '../adapters/postgres/access-reader.js';

export type { AdminRoute } from './admin-function.js';

export const ADMIN_ROUTES = {
  createTenant: adminRoute(
    { method: 'POST', path: '/tenants', access: 'platform', lambda: 'tenantCreate', summary: 'Create a tenant' },
    { body: createTenantBody, idempotent: true },
    (app, { mutation, body }) => createTenant(app, mutation, body),
  ),
  listTenants: adminRoute(
    { method: 'GET', path: '/tenants', access: 'platform', lambda: 'tenantList', summary: 'List tenants' },
    { list: true },
    (app, { page }) => listTenants(app, page),
  ),
  getTenant: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}', access: 'tenant', lambda: 'tenantGet', summary: 'Read a tenant' },
    {},
    (app, { params }) => getTenant(app, params.tenant),
  ),
  updateTenant: adminRoute(
    { method: 'PATCH', path: '/tenants/{tenant}', access: 'platform', lambda: 'tenantUpdate', summary: 'Rename, suspend or resume a tenant' },
    { body: updateTenantBody },
    (app, { mutation, params, ifMatch, body }) => updateTenant(app, mutation, params.tenant, ifMatch, body),
  ),
  deleteTenant: adminRoute(
    { method: 'DELETE', path: '/tenants/{tenant}', access: 'platform', lambda: 'tenantDelete', summary: 'Delete a tenant with its roles and mappings' },
    {},
    (app, { mutation, params, ifMatch }) => deleteTenant(app, mutation, params.tenant, ifMatch),
  ),
  createRole: adminRoute(
    { method: 'POST', path: '/tenants/{tenant}/roles', access: 'tenant', lambda: 'roleCreate', summary: 'Create a role' },
    { body: createRoleBody, idempotent: true },
    (app, { mutation, params, body }) => createRole(app, mutation, params.tenant, body),
  ),
  listRoles: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/roles', access: 'tenant', lambda: 'roleList', summary: 'List the roles of a tenant' },
    { list: true },
    (app, { params, page }) => listRoles(app, params.tenant, page),
  ),
  getRole: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/roles/{role}', access: 'tenant', lambda: 'roleGet', summary: 'Read a role' },
    {},
    (app, { params }) => getRole(app, params.tenant, params.role),
  ),
  updateRole: adminRoute(
    { method: 'PATCH', path: '/tenants/{tenant}/roles/{role}', access: 'tenant', lambda: 'roleUpdate', summary: 'Change a role’s description or permissions' },
    { body: updateRoleBody },
    (app, { mutation, params, ifMatch, body }) => updateRole(app, mutation, params.tenant, params.role, ifMatch, body),
  ),
  deleteRole: adminRoute(
    { method: 'DELETE', path: '/tenants/{tenant}/roles/{role}', access: 'tenant', lambda: 'roleDelete', summary: 'Delete a role (it leaves every mapping)' },
    {},
    (app, { mutation, params, ifMatch }) => deleteRole(app, mutation, params.tenant, params.role, ifMatch),
  ),
  putUser: adminRoute(
    { method: 'PUT', path: '/tenants/{tenant}/users/{subject}', access: 'tenant', lambda: 'userPut', summary: 'Set the roles of a subject in a tenant' },
    { body: putUserBody },
    (app, { mutation, params, ifMatch, body }) => putUser(app, mutation, params.tenant, params.subject, ifMatch, body.roles),
  ),
  listUsers: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/users', access: 'tenant', lambda: 'userList', summary: 'List the user mappings of a tenant' },
    { list: true },
    (app, { params, page }) => listUsers(app, params.tenant, page),
  ),
  getUser: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/users/{subject}', access: 'tenant', lambda: 'userGet', summary: 'Read a subject’s mapping' },
    {},
    (app, { params }) => getUser(app, params.tenant, params.subject),
  ),
  deleteUser: adminRoute(
    { method: 'DELETE', path: '/tenants/{tenant}/users/{subject}', access: 'tenant', lambda: 'userDelete', summary: 'Remove a subject from a tenant' },
    {},
    (app, { mutation, params, ifMatch }) => deleteUser(app, mutation, params.tenant, params.subject, ifMatch),
  ),
  explainUser: adminRoute(
    {
      method: 'GET',
      path: '/tenants/{tenant}/users/{subject}/access',
      access: 'tenant',
      lambda: 'userAccess',
      summary: 'Explain a user’s access in a tenant: roles, permissions and the roles granting each, and enrich-token’s answer',
    },
    {},
    (app, { params, mutation }) => explainUser({ ...app, access: postgresAccessReader }, mutation, params.tenant, params.subject),
  ),
  createClient: clientRoute(
    { method: 'POST', path: '/tenants/{tenant}/clients', access: 'tenant', lambda: 'clientCreate', summary: 'Register an OAuth client in the IdP (its secret is returned once)' },
    { body: createClientBody, idempotent: true, invalidBody: clientMetadataError },
    (app, { mutation, params, body }) => createClient(app, mutation, params.tenant, body),
  ),
  listClients: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/clients', access: 'tenant', lambda: 'clientList', summary: 'List the OAuth clients of a tenant' },
    { list: true },
    (app, { params, page }) => listClients(app, params.tenant, page),
  ),
  getClient: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/clients/{client}', access: 'tenant', lambda: 'clientGet', summary: 'Read an OAuth client' },
    {},
    (app, { params }) => getClient(app, params.tenant, params.client),
  ),
  updateClient: clientRoute(
    { method: 'PATCH', path: '/tenants/{tenant}/clients/{client}', access: 'tenant', lambda: 'clientUpdate', summary: 'Change an OAuth client’s metadata or roles (in the IdP too)' },
    { body: updateClientBody, invalidBody: clientMetadataError },
    (app, { mutation, params, ifMatch, body }) => updateClient(app, mutation, params.tenant, params.client, ifMatch, body),
  ),
  deleteClient: clientRoute(
    { method: 'DELETE', path: '/tenants/{tenant}/clients/{client}', access: 'tenant', lambda: 'clientDelete', summary: 'Delete an OAuth client from the IdP and the tenant' },
    {},
    (app, { mutation, params, ifMatch }) => deleteClient(app, mutation, params.tenant, params.client, ifMatch),
  ),
  rotateClientSecret: clientRoute(
    {
      method: 'POST',
      path: '/tenants/{tenant}/clients/{client}/secret',
      access: 'tenant',
      lambda: 'clientRotateSecret',
      summary: 'Issue a new client secret (returned once; the old one stops working)',
    },
    {},
    (app, { mutation, params }) => rotateClientSecret(app, mutation, params.tenant, params.client),
  ),
  explainClient: adminRoute(
    {
      method: 'GET',
      path: '/tenants/{tenant}/clients/{client}/access',
      access: 'tenant',
      lambda: 'clientAccess',
      summary: 'Explain an OAuth client’s access in its tenant: roles, permissions and the roles granting each, and enrich-token’s answer',
    },
    {},
    (app, { params, mutation }) => explainClient({ ...app, access: postgresAccessReader }, mutation, params.tenant, params.client),
  ),
  whoHas: adminRoute(
    {
      method: 'GET',
      path: '/tenants/{tenant}/permissions/{permission}/subjects',
      access: 'tenant',
      lambda: 'permissionSubjects',
      summary: 'List the users and clients holding a permission in a tenant, and through which roles',
    },
    { list: true, params: { permission: permissionParam } },
    (app, { params, page, mutation }) => whoHas({ ...app, access: postgresAccessReader }, mutation, params.tenant, params.permission, page),
  ),
  listTenantAudit: adminRoute(
    { method: 'GET', path: '/tenants/{tenant}/audit', access: 'tenant', lambda: 'auditTenant', summary: 'Read a tenant’s audit trail' },
    { list: true },
    (app, { params, page }) => listAudit(app, params.tenant, page),
  ),
  whoAmI: adminRoute(
    { method: 'GET', path: '/me', access: 'authenticated', lambda: 'whoAmI', summary: 'Who the caller is: its subject, whether it is a platform admin, and the tenants it administers' },
    {},
    async (_app, { caller }) => whoAmI(caller),
  ),
  listAudit: adminRoute(
    { method: 'GET', path: '/audit', access: 'platform', lambda: 'auditList', summary: 'Read the whole audit trail' },
    { list: true },
    (app, { page }) => listAudit(app, undefined, page),
  ),
} as const;

export type AdminOperation = keyof typeof ADMIN_ROUTES;
