/** PATCH /tenants/{tenant} — rename, suspend (enrich-token answers 403 at once) or resume. Requires If-Match. */
import { updateTenant } from '../lib/admin/tenants.js';
import { updateTenantBody } from '../lib/admin/schemas.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'updateTenant', { body: updateTenantBody }, ({ mutation, params, ifMatch, body }) =>
  updateTenant(app, mutation, params.tenant, ifMatch, body),
);
