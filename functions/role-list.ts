/** GET /tenants/{tenant}/roles */
import { listRoles } from '../lib/admin/roles.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'listRoles', {}, ({ params, page }) => listRoles(app, params.tenant, page));
