/** GET /tenants/{tenant}/clients */
import { listClients } from '../lib/admin/clients.js';
import { adminRuntime } from '../lib/wiring/admin.js';
import { adminFunction } from '../lib/admin/admin-function.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'listClients', {}, ({ params, page }) => listClients(app, params.tenant, page));
