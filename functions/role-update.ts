/** PATCH /tenants/{tenant}/roles/{role} — description and permissions. Requires If-Match. */
import { updateRole } from '../lib/admin/roles.js';
import { updateRoleBody } from '../lib/admin/schemas.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'updateRole', { body: updateRoleBody }, ({ mutation, params, ifMatch, body }) =>
  updateRole(app, mutation, params.tenant, params.role, ifMatch, body),
);
