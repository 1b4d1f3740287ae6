/** GET /tenants/{tenant}/users */
import { listUsers } from '../lib/admin/users.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'listUsers', {}, ({ params, page }) => listUsers(app, params.tenant, page));
