/** GET /tenants — platform admins list tenants (keyset pagination by slug). */
import { listTenants } from '../lib/admin/tenants.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'listTenants', {}, ({ page }) => listTenants(app, page));
