/** GET /tenants/{tenant} */
import { getTenant } from '../lib/admin/tenants.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'getTenant', {}, ({ params }) => getTenant(app, params.tenant));
