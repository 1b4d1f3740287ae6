/** GET /tenants/{tenant}/roles/{role} */
import { getRole } from '../lib/admin/roles.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'getRole', {}, ({ params }) => getRole(app, params.tenant, params.role));
