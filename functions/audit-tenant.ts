/** GET /tenants/{tenant}/audit — the tenant's audit trail, newest first. */
import { listAudit } from '../lib/admin/audit.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'listTenantAudit', {}, ({ params, page }) => listAudit(app, params.tenant, page));
