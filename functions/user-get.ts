/** GET /tenants/{tenant}/users/{subject} */
import { getUser } from '../lib/admin/users.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'getUser', {}, ({ params }) => getUser(app, params.tenant, params.subject));
