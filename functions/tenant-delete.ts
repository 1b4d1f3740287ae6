/** DELETE /tenants/{tenant} — with its roles and mappings; refused while it has OAuth clients. */
import { deleteTenant } from '../lib/admin/tenants.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'deleteTenant', {}, ({ mutation, params, ifMatch }) =>
  deleteTenant(app, mutation, params.tenant, ifMatch),);
