/** DELETE /tenants/{tenant}/roles/{role} — the role leaves every mapping in the same transaction. */
import { deleteRole } from '../lib/admin/roles.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'deleteRole', {}, ({ mutation, params, ifMatch }) =>
  deleteRole(app, mutation, params.tenant, params.role, ifMatch),
);
