/** GET /tenants/{tenant}/clients/{client} — never the secret or the registration access token. */
import { getClient } from '../lib/admin/clients.js';
import { adminRuntime } from '../lib/wiring/admin.js';
import { adminFunction } from '../lib/admin/admin-function.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'getClient', {}, ({ params }) => getClient(app, params.tenant, params.client));
